package dev.berth.gateway.session;

import dev.berth.gateway.launcher.Elsewhere;
import dev.berth.gateway.launcher.Launcher;
import io.vertx.core.Vertx;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The backends other gateways hold, by route, as last counted on the engine: admission counts
 * them against the limits, and a route's warm pool shares its size with the gateways serving it.
 * On the control loop.
 */
final class OtherGateways {

    private static final Logger LOG = SessionRegistry.LOG;
    /**
     * How often other gateways' backends are counted on the engine. Between two counts, gateways may
     * together admit past a limit by what they admitted in that second.
     */
    private static final long COUNT_INTERVAL_MS = 1000;

    private final Vertx vertx;
    private final Launcher launcher;
    /** Called after each count: a pool's share follows the gateways serving its route. */
    private final Runnable counted;

    private Elsewhere held = Elsewhere.NONE;
    private long timer = -1;

    OtherGateways(Vertx vertx, Launcher launcher, Runnable counted) {
        this.vertx = vertx;
        this.launcher = launcher;
        this.counted = counted;
    }

    /** Counts now, then every second until {@link #stop}. */
    void start() {
        count();
        timer = vertx.setPeriodic(COUNT_INTERVAL_MS, id -> count());
    }

    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    private void count() {
        launcher.heldElsewhere()
                .onSuccess(counts -> {
                    held = counts;
                    counted.run();
                })
                .onFailure(error -> LOG.fine("cannot count other gateways' backends: " + error.getMessage()));
    }

    /** Backends other gateways hold on {@code route}. */
    int onRoute(String route) {
        return held.backends().getOrDefault(route, 0);
    }

    /** Backends other gateways hold, over all routes. */
    int total() {
        return held.total();
    }

    /** The other gateways serving {@code route}. */
    Set<String> serving(String route) {
        return held.gateways().getOrDefault(route, Set.of());
    }
}
