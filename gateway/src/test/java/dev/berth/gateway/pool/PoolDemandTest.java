package dev.berth.gateway.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The pool's target follows arrivals: as many as arrive within two launch-to-ready times, kept for
 * the next burst and halving every {@code decay} once arrivals stop, always within the floor and
 * the ceiling.
 */
class PoolDemandTest {

    /** A clock the test moves. */
    private long now = 1_000_000_000L;

    private final PoolDemand demand = new PoolDemand(Duration.ofMinutes(10), () -> now);

    private void advance(Duration by) {
        now += by.toNanos();
    }

    /** {@code count} arrivals {@code gap} apart. */
    private void arrivals(int count, Duration gap) {
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                advance(gap);
            }
            demand.arrived();
        }
    }

    @Test
    void sessionsArrivingSlowerThanLaunchesKeepTheFloor() {
        demand.launched(Duration.ofMillis(900));
        for (int i = 0; i < 20; i++) {
            arrivals(1, Duration.ZERO);
            assertEquals(2, demand.target(2, 20), "one arrival within two launches: the floor covers it");
            advance(Duration.ofSeconds(3));
        }
        assertEquals(1, demand.target(0, 20), "with no floor: the one that arrives within a launch");
    }

    @Test
    void aBurstRaisesTheTargetToTheArrivalsWithinTwoLaunchToReadyTimes() {
        for (int i = 0; i < 40; i++) {
            demand.launched(Duration.ofMillis(400)); // the lead falls to 0.4 s
        }
        arrivals(20, Duration.ofMillis(100));
        int fast = demand.target(2, 30);
        assertTrue(fast >= 7 && fast <= 9, "the last 8 of the 20 arrived within two 0.4 s launches: " + fast);
        demand.launched(Duration.ofSeconds(8)); // cold starts slowed down by the burst
        assertEquals(20, demand.target(2, 30), "all 20 arrived within two (slower) launches");
        assertEquals(12, demand.target(2, 12), "never above the ceiling");
        assertEquals(25, demand.target(25, 30), "never below the floor");
    }

    @Test
    void theTargetHalvesEveryDecayOnceArrivalsStopDownToTheFloor() {
        demand.launched(Duration.ofSeconds(8));
        arrivals(20, Duration.ofMillis(100));
        assertEquals(20, demand.target(2, 30));
        advance(Duration.ofMinutes(1));
        assertTrue(demand.target(2, 30) >= 18, "a burst's size is kept for the next one a while later");
        advance(Duration.ofMinutes(9));
        assertEquals(10, demand.target(2, 30), "half of it after one decay time");
        advance(Duration.ofMinutes(10));
        assertEquals(5, demand.target(2, 30));
        advance(Duration.ofHours(2));
        assertEquals(2, demand.target(2, 30), "the floor at night");
        assertEquals(0, demand.target(0, 30), "or nothing, with no floor");
    }

    @Test
    void launchToReadyTimesRiseAtOnceAndFallBackSlowly() {
        assertEquals(PoolDemand.FIRST_LEAD, demand.lead(), "a second until a launch is measured");
        demand.launched(Duration.ofSeconds(8));
        assertEquals(Duration.ofSeconds(8), demand.lead());
        demand.launched(Duration.ofSeconds(4));
        assertEquals(Duration.ofSeconds(7), demand.lead(), "a quarter of the way down per launch");
        for (int i = 0; i < 30; i++) {
            demand.launched(Duration.ofSeconds(1));
        }
        assertTrue(demand.lead().toMillis() < 1100, "back near what launches take now: " + demand.lead());
    }

    @Test
    void arrivalsAreCountedOverTwoLaunchToReadyTimesOnly() {
        demand.launched(Duration.ofSeconds(2));
        arrivals(5, Duration.ofMillis(100));
        assertEquals(5, demand.need());
        advance(Duration.ofSeconds(3));
        assertEquals(5, demand.need(), "all within the last four seconds");
        advance(Duration.ofSeconds(2));
        assertEquals(0, demand.need(), "none within the last four seconds");
        assertEquals(5, demand.target(0, 10), "the peak is remembered, decaying");
    }
}
