package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A gateway that fails to start leaves nothing running. Alone while it runs: it looks at every
 * thread of the JVM, and other tests' gateways have engine workers of their own.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@Tag("engine")
@Isolated
class GatewayStartFailureTest {

    @Test
    void aGatewayThatCannotListenClosesItsLauncher(Vertx vertx) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Exception error = assertThrows(
                    Exception.class,
                    () -> TestGateway.on(LauncherKind.DOCKER)
                            .port(taken.getLocalPort())
                            .start(vertx));
            assertTrue(error.getMessage().contains("Address already in use"), error.getMessage());
        }
        Await.until(
                () -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("berth-docker")),
                10_000,
                "the engine worker pools are closed");
    }
}
