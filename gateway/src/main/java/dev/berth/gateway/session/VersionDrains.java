package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The versions of a route that still have sessions but take no new ones (a reload changed the
 * route's version or canary, or removed the route, or a gateway restart found them on the engine).
 * Each drains by its route's policy ({@code drain}): its sessions run until they end, or until a
 * deadline at which they are retired, their clients told to reconnect to the new version. A
 * version the route runs again (a rollback) stops draining. Lives on the control loop.
 */
public final class VersionDrains {

    private static final Logger LOG = Logger.getLogger(VersionDrains.class.getName());

    /** What an operator sees of one draining version; {@code deadline} null: it waits for its sessions to end. */
    public record Status(String route, String version, int sessions, Instant deadline) {}

    private final Vertx vertx;
    /** Ends the live sessions of a route's version, at its drain's deadline. */
    private final BiConsumer<String, String> retire;

    private final Map<Key, Drain> drains = new HashMap<>();

    private record Key(String route, String version) {}

    private static final class Drain {
        Instant deadline;
        long timer = -1;
    }

    VersionDrains(Vertx vertx, BiConsumer<String, String> retire) {
        this.vertx = vertx;
        this.retire = retire;
    }

    /**
     * Compares what runs with what the config runs: a version no longer run starts draining (by the
     * current route's policy, or its own if the route is gone), one run again stops.
     *
     * @param current the route of that name in the config in force, if any
     */
    void review(Collection<Session> sessions, Function<String, Optional<RouteConfig>> current) {
        Map<Key, RouteConfig> retired = new HashMap<>();
        for (Session session : sessions) {
            RouteConfig ran = session.route();
            Optional<RouteConfig> now = current.apply(ran.name());
            if (session.live() && (now.isEmpty() || !now.get().runs(ran.version()))) {
                retired.put(new Key(ran.name(), ran.version()), now.orElse(ran));
            }
        }
        drains.entrySet().removeIf(entry -> {
            boolean runAgain = !retired.containsKey(entry.getKey());
            if (runAgain) {
                cancel(entry.getValue());
                LOG.info("version " + entry.getKey().version() + " of route "
                        + entry.getKey().route() + " no longer drains: it is run again, or has no session left");
            }
            return runAgain;
        });
        retired.forEach((key, policy) -> {
            if (!drains.containsKey(key)) {
                Drain drain = new Drain();
                drains.put(key, drain);
                Duration deadline = policy.drainDeadline();
                LOG.info("version " + key.version() + " of route " + key.route() + " drains: it takes no new session; "
                        + (deadline == null
                                ? "its sessions run until they end (" + policy.key("drain") + ": wait)"
                                : "its sessions are told to reconnect to the new version in " + deadline.toMillis()
                                        + "ms (" + policy.key("drain") + ")"));
                if (deadline != null) {
                    schedule(key, drain, deadline);
                }
            }
        });
    }

    /**
     * Drains a version now, with a deadline of {@code deadline} from now, whatever the route's
     * policy (an operator's call); false when that version is not draining.
     */
    boolean drainBy(String route, String version, Duration deadline) {
        Key key = new Key(route, version);
        Drain drain = drains.get(key);
        if (drain == null) {
            return false;
        }
        cancel(drain);
        LOG.info("version " + version + " of route " + route + ": an operator set its drain deadline to "
                + deadline.toMillis() + "ms from now");
        schedule(key, drain, deadline);
        return true;
    }

    List<Status> status(Collection<Session> sessions) {
        Map<Key, Integer> counts = new HashMap<>();
        for (Session session : sessions) {
            if (session.live()) {
                counts.merge(new Key(session.route().name(), session.route().version()), 1, Integer::sum);
            }
        }
        return drains.entrySet().stream()
                .map(entry -> new Status(
                        entry.getKey().route(),
                        entry.getKey().version(),
                        counts.getOrDefault(entry.getKey(), 0),
                        entry.getValue().deadline))
                .toList();
    }

    private void schedule(Key key, Drain drain, Duration deadline) {
        drain.deadline = Instant.now().plus(deadline);
        drain.timer = vertx.setTimer(Math.max(1, deadline.toMillis()), id -> {
            drain.timer = -1;
            retire.accept(key.route(), key.version());
        });
    }

    private void cancel(Drain drain) {
        if (drain.timer >= 0) {
            vertx.cancelTimer(drain.timer);
            drain.timer = -1;
        }
        drain.deadline = null;
    }
}
