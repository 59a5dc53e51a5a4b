package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.BerthConfig;
import org.junit.jupiter.api.Test;

/** The gateway's own command line: the file, and what flags override in it. */
class MainArgumentsTest {

    private static final String SHIPPED =
            TestGateway.ROOT.resolve("config/berth.yaml").toString();

    @Test
    void flagsOverrideThePortAndTheGatewayIdOfTheFile() {
        BerthConfig config = Main.configFrom(
                new String[] {"--gateway-id", "berth-gateway-7f9c-x2x4z", "--config", SHIPPED, "--port", "9090"});
        assertEquals("berth-gateway-7f9c-x2x4z", config.sessions().gatewayId());
        assertEquals(9090, config.listen().port());
        assertEquals(
                "default",
                Main.configFrom(new String[] {"--config", SHIPPED}).sessions().gatewayId());
    }

    @Test
    void aGatewayIdThatCouldNotNameContainersIsAUsageMistake() {
        IllegalArgumentException wrong = assertThrows(
                IllegalArgumentException.class,
                () -> Main.configFrom(new String[] {"--config", SHIPPED, "--gateway-id", "Gateway_1"}));
        assertTrue(
                wrong.getMessage().contains("--gateway-id 'Gateway_1' is not a valid gateway id"), wrong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Main.configFrom(new String[] {"--port"}));
    }

    @Test
    void helpAndVersionStartNothing() {
        assertNull(Main.configFrom(new String[] {"--help"}));
        assertNull(Main.configFrom(new String[] {"--version"}));
    }
}
