package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.LauncherKind;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The session behaviour with each handler as a child process of the gateway. */
@Tag("long")
class ProcessSessionTest extends LauncherContractTest {

    ProcessSessionTest() {
        super(LauncherKind.PROCESS);
    }

    @Test
    void autoPicksProcessWhenNoEngineAnswers() throws Exception {
        gateway = TestGateway.on(LauncherKind.AUTO)
                .dockerHost("unix:///nonexistent/docker.sock")
                .start(vertx);
        assertTrue(get("/health").contains("\"launcher\":\"process\""), get("/health"));
        try (FrameClient client = connect(null)) {
            assertTrue(backends.running(gateway.route, client.hello().getString("session")) == 1);
        }
    }
}
