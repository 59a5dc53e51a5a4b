package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.Vertx;
import java.util.function.Consumer;

/**
 * The three clocks of a session: the grace period while no client is attached, the idle timeout
 * counted on data frames only (pings are not activity), and the maximum lifetime. Each calls
 * {@code expire} with the failure that names it.
 */
final class Lifetimes {

  private final Vertx vertx;
  private final RouteConfig.Timeouts timeouts;
  private final Consumer<Failure> expire;
  private long graceTimer = -1;
  private long idleTimer = -1;
  private long lifetimeTimer = -1;
  private long lastDataNanos = System.nanoTime();

  Lifetimes(Vertx vertx, RouteConfig.Timeouts timeouts, Consumer<Failure> expire) {
    this.vertx = vertx;
    this.timeouts = timeouts;
    this.expire = expire;
  }

  void start() {
    lifetimeTimer = vertx.setTimer(timeouts.maxLifetime().toMillis(), id -> expire.accept(Failure.MAX_LIFETIME));
    armIdle(timeouts.idle().toMillis());
  }

  void dataFrame() {
    lastDataNanos = System.nanoTime();
  }

  /** Checks at the idle deadline and re-arms for the rest when data passed meanwhile: no timer per frame. */
  private void armIdle(long delayMs) {
    idleTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
      long quietMs = (System.nanoTime() - lastDataNanos) / 1_000_000;
      long idleMs = timeouts.idle().toMillis();
      if (quietMs >= idleMs) {
        idleTimer = -1;
        expire.accept(Failure.IDLE_TIMEOUT);
      } else {
        armIdle(idleMs - quietMs);
      }
    });
  }

  void startGrace() {
    if (graceTimer < 0) {
      graceTimer = vertx.setTimer(timeouts.grace().toMillis(), id -> {
        graceTimer = -1;
        expire.accept(Failure.GRACE_EXPIRED);
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

  private long cancel(long timer) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return -1;
  }
}
