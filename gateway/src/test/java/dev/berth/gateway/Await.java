package dev.berth.gateway;

import java.util.function.BooleanSupplier;

/**
 * Waits for a condition rather than a clock: a test on a loaded 2-core machine asserts what must
 * become true, with a bound generous enough that only a real defect exceeds it.
 */
public final class Await {

    private static final long POLL_MS = 50;

    private Await() {}

    /** Returns as soon as {@code condition} holds; fails naming {@code what} after {@code withinMs}. */
    public static void until(BooleanSupplier condition, long withinMs, String what) throws InterruptedException {
        long deadline = System.nanoTime() + withinMs * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + withinMs + "ms: " + what);
            }
            Thread.sleep(POLL_MS);
        }
    }
}
