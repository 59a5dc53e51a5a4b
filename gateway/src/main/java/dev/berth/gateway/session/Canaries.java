package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;

/**
 * The routes' canaries: which version a new session starts on, and each canary's brake. A canary
 * takes its weight of new sessions (a session stays on the version it started on) while both
 * versions' new sessions are tallied: how many started, how many failed in a way that blames the
 * version ({@link Failure#blamesVersion()}), and their recent times from handshake to first frame.
 * Once the canary has started its brake's minimum of sessions and is clearly worse than the
 * route's version by the brake's thresholds, it gets no more new sessions; its live sessions go on.
 * The brake holds until a reload gives the route another canary. Lives on the control loop.
 */
public final class Canaries {

    private static final Logger LOG = Logger.getLogger(Canaries.class.getName());
    /** Recent first-frame times kept per version for the median. */
    private static final int SAMPLES = 64;
    /** First-frame times each version needs before medians are compared. */
    private static final int MIN_SAMPLES = 5;

    private final Map<String, Trial> trials = new HashMap<>();

    /** What an operator sees of one canary (admin API, metrics). */
    public record Status(
            String route,
            String stableVersion,
            String canaryVersion,
            int weightPercent,
            String brakedBecause,
            Tally stable,
            Tally canary) {}

    /** One version's new sessions in a trial; {@code firstFrameMedianMs} is -1 before any sample. */
    public record Tally(int started, int failed, double firstFrameMedianMs) {}

    /**
     * Takes the routes of the config in force: a canary that is new, or whose versions changed,
     * starts a fresh trial (a brake is lifted that way); an unchanged one keeps its tallies.
     */
    public void configure(List<RouteConfig> routes) {
        Map<String, Trial> next = new HashMap<>();
        for (RouteConfig route : routes) {
            if (route.canary() == null) {
                continue;
            }
            Trial kept = trials.get(route.name());
            boolean same = kept != null
                    && kept.stableVersion.equals(route.version())
                    && kept.canary.version().equals(route.canary().version());
            next.put(
                    route.name(),
                    same ? kept.with(route.canary()) : new Trial(route.name(), route.version(), route.canary()));
        }
        trials.clear();
        trials.putAll(next);
    }

    /** The version a new session on {@code route} starts on: the route itself, or its canary by weight. */
    RouteConfig choose(RouteConfig route) {
        Trial trial = trials.get(route.name());
        boolean toCanary = trial != null
                && trial.brakedBecause == null
                && ThreadLocalRandom.current().nextInt(100) < trial.canary.weightPercent();
        return toCanary ? route.asCanary() : route;
    }

    void started(RouteConfig version) {
        Tallying tally = tallyOf(version);
        if (tally != null) {
            tally.started++;
        }
    }

    void failed(RouteConfig version, Failure why) {
        Tallying tally = tallyOf(version);
        if (tally != null && why.blamesVersion()) {
            tally.failed++;
            judge(trials.get(version.name()));
        }
    }

    void firstFrame(RouteConfig version, Duration took) {
        Tallying tally = tallyOf(version);
        if (tally != null) {
            tally.sample(took.toNanos() / 1e6);
            judge(trials.get(version.name()));
        }
    }

    /** Stops new sessions going to {@code route}'s canary (an operator drains it); false when it has none. */
    boolean brake(String route, String why) {
        Trial trial = trials.get(route);
        if (trial == null) {
            return false;
        }
        engage(trial, why);
        return true;
    }

    public List<Status> status() {
        return trials.values().stream()
                .map(trial -> {
                    return new Status(
                            trial.route,
                            trial.stableVersion,
                            trial.canary.version(),
                            trial.canary.weightPercent(),
                            trial.brakedBecause,
                            trial.stable.tally(),
                            trial.canaryTally.tally());
                })
                .toList();
    }

    private Tallying tallyOf(RouteConfig version) {
        Trial trial = trials.get(version.name());
        if (trial == null) {
            return null;
        }
        if (trial.canary.version().equals(version.version())) {
            return trial.canaryTally;
        }
        return trial.stableVersion.equals(version.version()) ? trial.stable : null;
    }

    private void judge(Trial trial) {
        RouteConfig.Brake brake = trial.canary.brake();
        Tallying canary = trial.canaryTally;
        Tallying stable = trial.stable;
        if (trial.brakedBecause != null || canary.started < brake.minSessions()) {
            return;
        }
        double canaryRate = canary.failureRate();
        double stableRate = stable.failureRate();
        if (canaryRate - stableRate > brake.failureMargin()) {
            engage(
                    trial,
                    String.format(
                            "%.0f%% of its %d sessions failed, against %.0f%% of %s's %d (brake.failureMargin %.2f)",
                            100 * canaryRate,
                            canary.started,
                            100 * stableRate,
                            trial.stableVersion,
                            stable.started,
                            brake.failureMargin()));
            return;
        }
        double canaryMedian = canary.median();
        double stableMedian = stable.median();
        boolean sampled = canary.samples >= MIN_SAMPLES && stable.samples >= MIN_SAMPLES;
        if (sampled && canaryMedian > brake.firstFrameRatio() * stableMedian) {
            engage(
                    trial,
                    String.format(
                            "median time to first frame %.1fms, against %.1fms for %s (brake.firstFrameRatio %.1f)",
                            canaryMedian, stableMedian, trial.stableVersion, brake.firstFrameRatio()));
        }
    }

    private void engage(Trial trial, String why) {
        if (trial.brakedBecause == null) {
            trial.brakedBecause = why;
            LOG.warning("canary " + trial.canary.version() + " of route " + trial.route + " braked: " + why
                    + "; new sessions start on " + trial.stableVersion + ", its live sessions go on");
        }
    }

    private static final class Trial {
        final String route;
        final String stableVersion;
        final RouteConfig.Canary canary;
        final Tallying stable;
        final Tallying canaryTally;
        String brakedBecause;

        Trial(String route, String stableVersion, RouteConfig.Canary canary) {
            this(route, stableVersion, canary, new Tallying(), new Tallying(), null);
        }

        private Trial(
                String route,
                String stableVersion,
                RouteConfig.Canary canary,
                Tallying stable,
                Tallying canaryTally,
                String braked) {
            this.route = route;
            this.stableVersion = stableVersion;
            this.canary = canary;
            this.stable = stable;
            this.canaryTally = canaryTally;
            this.brakedBecause = braked;
        }

        /** The same trial under a reloaded canary block (its weight or brake may have changed). */
        Trial with(RouteConfig.Canary reloaded) {
            return new Trial(route, stableVersion, reloaded, stable, canaryTally, brakedBecause);
        }
    }

    private static final class Tallying {
        int started;
        int failed;
        final double[] recentMs = new double[SAMPLES];
        int samples;

        void sample(double ms) {
            recentMs[samples % SAMPLES] = ms;
            samples++;
        }

        double failureRate() {
            return started == 0 ? 0 : (double) failed / started;
        }

        double median() {
            int n = Math.min(samples, SAMPLES);
            if (n == 0) {
                return -1;
            }
            double[] sorted = Arrays.copyOf(recentMs, n);
            Arrays.sort(sorted);
            return sorted[n / 2];
        }

        Tally tally() {
            return new Tally(started, failed, median());
        }
    }
}
