package dev.berth.gateway.session;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.logging.Logger;

/**
 * Looks at the engine every {@code sessions.reapInterval}, so nothing a failure left stays behind:
 * adopts what no session holds, tops the warm pools up, and forgets what client addresses left;
 * and counts other gateways' backends every second meanwhile. On the control loop.
 */
final class Reaper {

    private static final Logger LOG = SessionRegistry.LOG;

    private final Vertx vertx;
    private final OtherGateways others;
    private final Admission admission;
    private final Pools pools;
    private final Adoption adoption;
    private long timer = -1;

    Reaper(Vertx vertx, OtherGateways others, Admission admission, Pools pools, Adoption adoption) {
        this.vertx = vertx;
        this.others = others;
        this.admission = admission;
        this.pools = pools;
        this.adoption = adoption;
    }

    void start(Duration interval) {
        others.start();
        timer = vertx.setPeriodic(interval.toMillis(), id -> {
            admission.prune();
            pools.fill();
            adoption.discover().onSuccess(adopted -> {
                if (adopted > 0) {
                    LOG.info("adopted " + adopted + " backend(s) that no session held; they end after the grace period"
                            + " unless a client comes back");
                }
            });
        });
    }

    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        others.stop();
    }
}
