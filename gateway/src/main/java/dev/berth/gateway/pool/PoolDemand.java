package dev.berth.gateway.pool;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * How many idle backends a pool should hold, from what it sees: new sessions arriving, and how long
 * a backend takes from launch to ready. A session that finds the pool empty waits a whole launch,
 * and the claim that emptied it starts a refill that takes as long; so the pool should hold as many
 * entries as sessions arrive within a launch-to-ready time. It counts them over two (the launches
 * measured begin after the arrivals that set them off, and a burst's first arrivals would fall out
 * of one). That need is taken at its peak, which
 * then decays (halving every {@code decay}) once arrivals stop, so a burst's size is kept ready for
 * the next one for a while, and a quiet night falls back to the floor. Launch-to-ready times rise
 * at once when launches slow down (concurrent cold starts slow each other) and fall back slowly.
 * Not thread-safe: the pool's control loop.
 */
final class PoolDemand {

    /** Until a launch is measured, what one is taken to cost. */
    static final Duration FIRST_LEAD = Duration.ofSeconds(1);
    /** A launch-to-ready time is taken as at most this long, however slow launches are. */
    private static final long MAX_LEAD_NANOS = Duration.ofSeconds(30).toNanos();
    /** Arrivals remembered at most (a bound, far above any pool's ceiling). */
    private static final int MAX_ARRIVALS = 10_000;
    /** How much of a shorter launch-to-ready time is taken in at once. */
    private static final double FALL_WEIGHT = 0.25;

    private final LongSupplier clock;
    private final double decayNanos;
    private final ArrayDeque<Long> arrivals = new ArrayDeque<>();
    private long leadNanos = FIRST_LEAD.toNanos();
    private double peak;
    private long peakAt;

    /**
     * @param decay the time in which the target falls halfway back to the floor once arrivals stop
     * @param clock nanoseconds, as {@link System#nanoTime}
     */
    PoolDemand(Duration decay, LongSupplier clock) {
        this.decayNanos = decay.toNanos();
        this.clock = clock;
        this.peakAt = clock.getAsLong();
    }

    /** A new session asked the pool for a backend (found one or not). */
    void arrived() {
        if (arrivals.size() == MAX_ARRIVALS) {
            arrivals.poll();
        }
        arrivals.add(clock.getAsLong());
        update();
    }

    /** A backend of the route went from launch to ready in {@code took} (a refill, or a session's own launch). */
    void launched(Duration took) {
        long sample = Math.min(took.toNanos(), MAX_LEAD_NANOS);
        leadNanos = sample >= leadNanos ? sample : leadNanos - (long) ((leadNanos - sample) * FALL_WEIGHT);
        update();
    }

    /** The launch-to-ready time the need is measured over. */
    Duration lead() {
        return Duration.ofNanos(leadNanos);
    }

    /** Sessions that arrived within the last two launch-to-ready times. */
    int need() {
        long since = clock.getAsLong() - 2 * leadNanos;
        int count = 0;
        for (var each = arrivals.descendingIterator(); each.hasNext() && each.next() > since; ) {
            count++;
        }
        return count;
    }

    /** Idle backends to hold now: the decayed peak of the need, rounded, within {@code [min, max]}. */
    int target(int min, int max) {
        update();
        return Math.max(min, Math.min(max, (int) Math.round(peak)));
    }

    private void update() {
        long now = clock.getAsLong();
        while (!arrivals.isEmpty() && arrivals.peek() < now - 2 * MAX_LEAD_NANOS) {
            arrivals.poll();
        }
        double decayed = peak * Math.pow(0.5, (now - peakAt) / decayNanos);
        int need = need();
        peak = Math.max(decayed, need);
        peakAt = now;
    }
}
