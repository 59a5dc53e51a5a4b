package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.Vertx;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * The three clocks of a session: the grace period while no client is attached, the idle timeout
 * counted on data frames only (pings are not activity), and the maximum lifetime. Each calls
 * {@code expire} with the failure that names it and why, naming the setting. The idle clock reads
 * when data last passed from the pipe, on its own loop, rather than being told of every frame.
 */
final class Lifetimes {

    private final Vertx vertx;
    private final RouteConfig route;
    private final RouteConfig.Timeouts timeouts;
    private final BiConsumer<Failure, String> expire;
    private final LongSupplier lastDataNanos;
    private long graceTimer = -1;
    private long idleTimer = -1;
    private long lifetimeTimer = -1;

    Lifetimes(Vertx vertx, RouteConfig route, BiConsumer<Failure, String> expire, LongSupplier lastDataNanos) {
        this.vertx = vertx;
        this.route = route;
        this.timeouts = route.timeouts();
        this.expire = expire;
        this.lastDataNanos = lastDataNanos;
    }

    void start() {
        lifetimeTimer = vertx.setTimer(timeouts.maxLifetime().toMillis(), id -> expired(Failure.MAX_LIFETIME));
        armIdle(timeouts.idle().toMillis());
    }

    /** Checks at the idle deadline and re-arms for the rest when data passed meanwhile: no timer per frame. */
    private void armIdle(long delayMs) {
        idleTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
            long quietMs = (System.nanoTime() - lastDataNanos.getAsLong()) / 1_000_000;
            long idleMs = timeouts.idle().toMillis();
            if (quietMs >= idleMs) {
                idleTimer = -1;
                expired(Failure.IDLE_TIMEOUT);
            } else {
                armIdle(idleMs - quietMs);
            }
        });
    }

    void startGrace() {
        if (graceTimer < 0) {
            graceTimer = vertx.setTimer(timeouts.grace().toMillis(), id -> {
                graceTimer = -1;
                expired(Failure.GRACE_EXPIRED);
            });
        }
    }

    void stopGrace() {
        graceTimer = cancel(graceTimer);
    }

    void stopAll() {
        graceTimer = cancel(graceTimer);
        idleTimer = cancel(idleTimer);
        lifetimeTimer = cancel(lifetimeTimer);
    }

    private void expired(Failure lifetime) {
        expire.accept(
                lifetime,
                switch (lifetime) {
                    case GRACE_EXPIRED ->
                        "no client for " + timeouts.grace().toMillis() + "ms (" + route.key("timeouts.grace") + ")";
                    case IDLE_TIMEOUT ->
                        "no data frame for " + timeouts.idle().toMillis() + "ms (" + route.key("timeouts.idle") + ")";
                    default ->
                        "alive for " + timeouts.maxLifetime().toMillis() + "ms (" + route.key("timeouts.maxLifetime")
                                + ")";
                });
    }

    private long cancel(long timer) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        return -1;
    }
}
