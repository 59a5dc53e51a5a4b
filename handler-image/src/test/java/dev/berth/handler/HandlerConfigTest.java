package dev.berth.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class HandlerConfigTest {

    @Test
    void unsetVariablesGiveTheDefaults() throws Exception {
        assertEquals(
                new HandlerConfig("0.0.0.0", "local", "dev", 8080, 60_000, 2, false, null),
                HandlerConfig.fromEnv(Map.of()));
    }

    @Test
    void setVariablesAreRead() throws Exception {
        HandlerConfig config = HandlerConfig.fromEnv(Map.of(
                "BERTH_SESSION",
                "k3y",
                "BERTH_VERSION",
                "0.1.0",
                "BERTH_PORT",
                "9000",
                "BERTH_IDLE_GRACE_MS",
                "1500",
                "BERTH_FEED_PER_SECOND",
                "0",
                "BERTH_TEST_HOOKS",
                "1"));
        assertEquals(new HandlerConfig("0.0.0.0", "k3y", "0.1.0", 9000, 1500, 0, true, null), config);
    }

    @Test
    void badValuesNameTheVariableTheProblemAndWhatIsAccepted() {
        assertMessage(
                Map.of("BERTH_PORT", "http"),
                "invalid BERTH_PORT=\"http\": not an integer; accepted: an integer from 0 to 65535");
        assertMessage(
                Map.of("BERTH_PORT", "70000"),
                "invalid BERTH_PORT=\"70000\": out of range; accepted: an integer from 0 to 65535");
        assertMessage(
                Map.of("BERTH_IDLE_GRACE_MS", "0"),
                "invalid BERTH_IDLE_GRACE_MS=\"0\": out of range; accepted: an integer number of milliseconds from 1");
        assertMessage(
                Map.of("BERTH_FEED_PER_SECOND", "1001"),
                "invalid BERTH_FEED_PER_SECOND=\"1001\": out of range; accepted: an integer from 0 (no feed) to 1000");
        assertMessage(Map.of("BERTH_SESSION", " "), "invalid BERTH_SESSION=\" \": blank; accepted: a non-blank string");
    }

    private static void assertMessage(Map<String, String> env, String expectedStart) {
        HandlerConfig.InvalidConfig e =
                assertThrows(HandlerConfig.InvalidConfig.class, () -> HandlerConfig.fromEnv(env));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }
}
