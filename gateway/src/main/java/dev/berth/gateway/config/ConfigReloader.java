package dev.berth.gateway.config;

import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Reloads the config file while the gateway runs: when the file changes, on SIGHUP, or on the admin
 * API's call. The new file is validated whole and swapped in whole, or rejected with a log line that
 * names the file, the key and the fix while the config in force stays. A reload applies the
 * {@code routes}; any other section takes a restart, so a file that changes one is rejected. Reloads
 * run one at a time, on the control loop.
 */
public final class ConfigReloader {

    /** What reloads come to, for metrics (metrics/ implements it). */
    public interface Meter {

        /** How a reload ended. */
        enum Outcome {
            /** The file changed and its routes were swapped in. */
            APPLIED,
            /** The file was read and validated, and is the config in force. */
            UNCHANGED,
            /** The file could not be read, parsed, validated or applied: the config in force stays. */
            REJECTED
        }

        /** A reload ended with {@code outcome}; APPLIED and UNCHANGED are good loads of the file. */
        void reloaded(Outcome outcome);
    }

    private static final Logger LOG = Logger.getLogger(ConfigReloader.class.getName());
    /** How often the file is read to see whether it changed: cheap, and quicker than an operator. */
    private static final long POLL_MS = 1000;

    private final Vertx vertx;
    private final Context control;
    /** Swaps a validated config in; completes with a summary of what changed, or fails changing nothing. */
    private final Function<BerthConfig, Future<String>> apply;

    private final Meter meter;

    private volatile BerthConfig inForce;
    /** The text last read from the file, applied or rejected: the watch reacts only when it changes. */
    private String lastSeen;

    private Future<?> previous = Future.succeededFuture();
    private long timer = -1;

    public ConfigReloader(
            Vertx vertx,
            Context control,
            BerthConfig initial,
            Function<BerthConfig, Future<String>> apply,
            Meter meter) {
        this.vertx = vertx;
        this.meter = meter;
        this.control = control;
        this.inForce = initial;
        this.lastSeen = initial.text();
        this.apply = apply;
    }

    /** The config in force; read from any thread. */
    public BerthConfig inForce() {
        return inForce;
    }

    /** Reloads whenever the file's text changes (an editor's save, a config management tool's write). */
    public void watchFile() {
        EventLoops.run(
                control,
                () -> timer = vertx.setPeriodic(
                        POLL_MS,
                        id -> vertx.fileSystem()
                                .readFile(inForce.source().toString())
                                .onSuccess(read -> {
                                    String text = read.toString();
                                    if (!text.equals(lastSeen)) {
                                        reload("the file changed", text);
                                    }
                                })));
    }

    public void stopWatching() {
        EventLoops.run(control, () -> {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        });
    }

    /**
     * Reads the file and reloads it ({@code trigger} says why, for the log). Completes on the caller's
     * loop with the config in force, or fails with why the file was rejected; either way it is logged.
     */
    public Future<BerthConfig> reload(String trigger) {
        return EventLoops.call(
                control,
                () -> vertx.executeBlocking(() -> Files.readString(inForce.source()), false)
                        .recover(error -> {
                            meter.reloaded(Meter.Outcome.REJECTED);
                            return Future.failedFuture(new ConfigException(inForce.source() + ": cannot be read ("
                                    + error.getMessage() + "). Fix: check the path and its permissions"));
                        })
                        .compose(text -> reload(trigger, text)));
    }

    private Future<BerthConfig> reload(String trigger, String text) {
        Future<BerthConfig> done = previous.transform(ignored -> {
            lastSeen = text;
            BerthConfig next;
            try {
                next = successor(inForce, text);
            } catch (ConfigException rejected) {
                return Future.failedFuture(rejected);
            }
            if (next.text().equals(inForce.text())) {
                LOG.info("config reloaded (" + trigger + "): the file is unchanged, version " + inForce.version());
                meter.reloaded(Meter.Outcome.UNCHANGED);
                return Future.succeededFuture(inForce);
            }
            return apply.apply(next).map(summary -> {
                inForce = next;
                LOG.info("config reloaded (" + trigger + "): " + summary + "; version " + next.version());
                meter.reloaded(Meter.Outcome.APPLIED);
                return next;
            });
        });
        previous = done;
        return done.onFailure(error -> {
            meter.reloaded(Meter.Outcome.REJECTED);
            LOG.warning("config reload (" + trigger + ") rejected, the config in force stays (version "
                    + inForce.version() + "): " + error.getMessage());
        });
    }

    /**
     * The config {@code text} describes, taking over everything of {@code current} but its routes;
     * rejected when it is not valid or changes a section a reload cannot apply.
     */
    static BerthConfig successor(BerthConfig current, String text) {
        BerthConfig parsed =
                ConfigLoader.parse(current.source(), current.source().toString(), text);
        BerthConfig before =
                ConfigLoader.parse(current.source(), current.source().toString(), current.text());
        Map<String, Object[]> sections = new LinkedHashMap<>();
        sections.put("listen", new Object[] {before.listen(), parsed.listen()});
        sections.put("launcher", new Object[] {before.launcher(), parsed.launcher()});
        sections.put("docker", new Object[] {before.docker(), parsed.docker()});
        sections.put("sessions", new Object[] {before.sessions(), parsed.sessions()});
        sections.put("admin", new Object[] {before.admin(), parsed.admin()});
        sections.put("auth", new Object[] {before.auth(), parsed.auth()});
        sections.put("log", new Object[] {before.log(), parsed.log()});
        sections.forEach((section, values) -> {
            if (!Objects.equals(values[0], values[1])) {
                throw new ConfigException(
                        current.source() + ": " + section + " changed, and a reload applies routes only. "
                                + "Fix: restart the gateway to apply it (sessions survive a restart, docs/operations.md), or undo the change");
            }
        });
        return new BerthConfig(
                current.source(),
                text,
                current.workingDirectory(),
                current.listen(),
                current.launcher(),
                current.docker(),
                current.kubernetes(),
                current.sessions(),
                current.admin(),
                current.auth(),
                current.log(),
                parsed.routes());
    }
}
