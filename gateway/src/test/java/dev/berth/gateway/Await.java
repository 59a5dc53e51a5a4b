package dev.berth.gateway;

import java.util.function.BooleanSupplier;

/**
 * Waits for a condition rather than a clock: a test on a loaded 2-core machine asserts what must
 * become true, with a bound generous enough that only a real defect exceeds it.
 */
public final class Await {

    /**
     * The first look comes again after this long, and each later one after twice the wait before, up
     * to {@link #MAX_POLL_MS}: what is true in milliseconds is seen in milliseconds, while a condition
     * that takes seconds (a grace period, a container's removal) is not asked for 20 times a second.
     * Many conditions scrape /metrics or list the engine's containers; on a 2-core machine running
     * three test classes at once, fixed 50 ms polls were CPU the suite needed elsewhere.
     */
    private static final long FIRST_POLL_MS = 10;

    private static final long MAX_POLL_MS = 200;

    private Await() {}

    /** Returns as soon as {@code condition} holds; fails naming {@code what} after {@code withinMs}. */
    public static void until(BooleanSupplier condition, long withinMs, String what) throws InterruptedException {
        long deadline = System.nanoTime() + withinMs * 1_000_000;
        long pollMs = FIRST_POLL_MS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + withinMs + "ms: " + what);
            }
            Thread.sleep(pollMs);
            pollMs = Math.min(2 * pollMs, MAX_POLL_MS);
        }
    }
}
