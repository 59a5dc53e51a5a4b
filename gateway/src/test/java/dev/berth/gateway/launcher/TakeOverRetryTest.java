package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A take-over that loses a race to another gateway looks again, three times in all. */
class TakeOverRetryTest {

    @Test
    void aLostRaceIsTriedAgain() {
        AtomicInteger tries = new AtomicInteger();
        String taken = TakeOverRetry.take("k", () -> {
            if (tries.incrementAndGet() < 3) {
                throw new TakeOverRetry.Lost();
            }
            return "taken";
        });
        assertEquals("taken", taken);
    }

    @Test
    void aSessionThatKeepsMovingFails() {
        AtomicInteger tries = new AtomicInteger();
        FailureException error = assertThrows(
                FailureException.class,
                () -> TakeOverRetry.take("k", () -> {
                    tries.incrementAndGet();
                    throw new TakeOverRetry.Lost();
                }));
        assertEquals(3, tries.get());
        assertEquals(Failure.START_FAILED, error.failure());
        assertEquals("session k kept moving between gateways", error.getMessage());
    }

    @Test
    void noSessionOnTheEngineIsNull() {
        assertNull(TakeOverRetry.take("k", () -> null));
    }
}
