package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import java.time.Duration;
import java.util.logging.Logger;

/**
 * When the phases of a new session's start ended, for the start timers, the canary's first-frame
 * sample and the start's log line. An adopted session did not start here: it is not timed. On the
 * control loop, as its session.
 */
final class StartClock {

    /** The session's own logger: the start line reads as it did before the clock had a class. */
    private static final Logger LOG = Logger.getLogger(Session.class.getName());

    private final Session session;
    private final SessionServices services;
    private final boolean timed;
    private final long createdNanos = System.nanoTime();
    private long backendNanos;
    private long pipedNanos;
    private long attachedNanos;

    StartClock(Session session, SessionServices services, boolean adopted) {
        this.session = session;
        this.services = services;
        this.timed = !adopted;
    }

    long createdNanos() {
        return createdNanos;
    }

    void backendReady() {
        backendNanos = System.nanoTime();
        phase("backend", createdNanos, backendNanos);
    }

    void piped() {
        pipedNanos = System.nanoTime();
        phase("upstream", backendNanos, pipedNanos);
    }

    /** Its first client was attached: the handshake phase ends (later clients change nothing). */
    void attached() {
        if (attachedNanos == 0) {
            attachedNanos = System.nanoTime();
            phase("handshake", pipedNanos, attachedNanos);
        }
    }

    /** @param pooled whether its backend came from the warm pool (the start line says so) */
    void firstFrame(boolean pooled) {
        long now = System.nanoTime();
        RouteConfig route = session.route();
        phase("first_frame", attachedNanos, now);
        if (timed && attachedNanos > 0) {
            services.canaries().firstFrame(route, Duration.ofNanos(now - attachedNanos));
        }
        phase("total", createdNanos, now);
        if (timed && attachedNanos > 0) {
            LOG.info(session + ": started in " + micros(createdNanos, now) + "us: backend "
                    + micros(createdNanos, backendNanos) + "us (" + (pooled ? "pool" : "launch") + "), upstream "
                    + micros(backendNanos, pipedNanos) + "us, handshake " + micros(pipedNanos, attachedNanos)
                    + "us, first frame " + micros(attachedNanos, now) + "us");
        }
    }

    private static long micros(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1000;
    }

    /** Records one phase of a new session's start; adopted sessions (no start here) are not timed. */
    private void phase(String name, long fromNanos, long toNanos) {
        if (timed && fromNanos > 0) {
            services.meter().sessionStartPhase(session.route().name(), name, Duration.ofNanos(toNanos - fromNanos));
        }
    }
}
