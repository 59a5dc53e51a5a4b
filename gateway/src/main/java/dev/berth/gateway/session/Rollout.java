package dev.berth.gateway.session;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Which versions run: what a reload changes in the routes, the canaries (through {@link Canaries})
 * and the versions that drain (through {@link VersionDrains}), and an operator's drains. Sessions
 * keep the version they started on. On the control loop.
 */
final class Rollout {

    private static final Logger LOG = SessionRegistry.LOG;

    private final SessionView sessions;
    private final Supplier<BerthConfig> config;
    private final Canaries canaries;
    private final VersionDrains drains;
    /**
     * Canary versions an operator drained (route name to version): they take no new session until a
     * reload changes the canary.
     */
    private final Map<String, String> drainedCanaries = new HashMap<>();

    Rollout(SessionServices services, Supplier<BerthConfig> config, SessionView sessions) {
        this.sessions = sessions;
        this.config = config;
        this.canaries = services.canaries();
        this.drains = new VersionDrains(services.vertx(), this::retire);
    }

    /** What {@code next} changes in the routes of {@code before}, for the log. */
    static String changes(BerthConfig before, BerthConfig next) {
        List<String> changes = new ArrayList<>();
        for (RouteConfig route : before.routes()) {
            Optional<RouteConfig> after = next.route(route.name());
            if (after.isEmpty()) {
                changes.add("removed route " + route.name());
            } else if (!after.get().equals(route)) {
                changes.add("changed route " + route.name()
                        + (after.get().version().equals(route.version())
                                ? ""
                                : " (version " + route.version() + " -> "
                                        + after.get().version() + ")"));
            }
        }
        next.routes().stream()
                .filter(route -> before.route(route.name()).isEmpty())
                .forEach(route -> changes.add("added route " + route.name() + " (version " + route.version() + ")"));
        return changes.isEmpty() ? "no route changed" : String.join("; ", changes);
    }

    /** Before {@code next} is in force: a canary drained by an operator that it changes or drops is forgotten. */
    void forgetDrainedCanaries(BerthConfig next) {
        drainedCanaries
                .keySet()
                .removeIf(name -> next.route(name)
                        .map(route -> route.canary() == null
                                || !route.canary().version().equals(drainedCanaries.get(name)))
                        .orElse(true));
    }

    /** Once a config is in force: a canary that is new, or whose versions changed, starts a fresh trial. */
    void configureCanaries(BerthConfig inForce) {
        canaries.configure(inForce.routes());
    }

    /** Compares what runs with what the config runs: a version no longer run drains, one run again stops. */
    void reviewDrains() {
        drains.review(sessions.all(), this::runningNow);
    }

    /** Ends the live sessions of a draining version at its deadline: their clients reconnect to its new version. */
    private void retire(String route, String version) {
        List<Session> retiring = live(route, version).toList();
        LOG.info("version " + version + " of route " + route + ": drain deadline reached, " + retiring.size()
                + " session(s) are told to reconnect to the route's version");
        retiring.forEach(session -> session.end(Failure.VERSION_RETIRED, "its version " + version + " drained"));
    }

    /**
     * Drains {@code version} of {@code route} now: its sessions are told to reconnect after
     * {@code deadline}. A canary is braked first, so it takes no new session meanwhile. Fails with
     * why when that version cannot be drained (the route's own version, or none such).
     */
    Future<Integer> drainVersion(String route, String version, Duration deadline) {
        Optional<RouteConfig> current = config.get().route(route);
        if (current.isPresent() && current.get().version().equals(version)) {
            return Future.failedFuture(new IllegalStateException("version " + version + " is route " + route
                    + "'s own: new sessions start on it. Change the route's version (or roll back) in the config and reload"
                    + " first"));
        }
        if (current.isPresent() && current.get().runs(version)) {
            canaries.brake(route, "drained by an operator");
            drainedCanaries.put(route, version);
        }
        reviewDrains();
        if (!drains.drainBy(route, version, deadline)) {
            return Future.failedFuture(
                    new NoSuchElementException("route " + route + " has no session on version " + version));
        }
        return Future.succeededFuture((int) live(route, version).count());
    }

    private Stream<Session> live(String route, String version) {
        return sessions.all().stream()
                .filter(session -> session.live()
                        && session.route().name().equals(route)
                        && session.route().version().equals(version));
    }

    /**
     * The route called {@code name} as far as draining goes: a canary an operator drained counts as
     * no longer run (one the brake stopped still does: its live sessions are left alone).
     */
    private Optional<RouteConfig> runningNow(String name) {
        return config.get()
                .route(name)
                .map(route -> route.canary() != null && route.canary().version().equals(drainedCanaries.get(name))
                        ? route.asRetired(route.version())
                        : route);
    }

    /** What runs where: every route's versions, canaries and draining versions. */
    Sessions.Versions versions() {
        Map<String, Map<String, Integer>> live = new HashMap<>();
        for (Session session : sessions.all()) {
            if (session.live()) {
                live.computeIfAbsent(session.route().name(), name -> new HashMap<>())
                        .merge(session.route().version(), 1, Integer::sum);
            }
        }
        return new Sessions.Versions(config.get().routes(), live, canaries.status(), drains.status(sessions.all()));
    }
}
