package dev.berth.gateway.bench;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** The whole run's time limit ({@code --time-limit-s}): every wait is cut to what is left of it. */
final class Deadline {

    private final Duration limit;
    private final long endNanos;

    Deadline(Duration limit) {
        this.limit = limit;
        this.endNanos = System.nanoTime() + limit.toNanos();
    }

    long remainingNanos() {
        return endNanos - System.nanoTime();
    }

    /** {@code wanted} in milliseconds, cut to what is left of the limit; fails once the limit is reached. */
    long boundedMillis(Duration wanted) throws TimeoutException {
        check("the run");
        return Math.max(1, Math.min(wanted.toMillis(), remainingNanos() / 1_000_000));
    }

    /** Fails once the limit is reached, naming {@code what} was going on. */
    void check(String what) throws TimeoutException {
        if (remainingNanos() <= 0) {
            throw new TimeoutException("time limit of " + limit.toSeconds() + "s reached during " + what);
        }
    }
}
