package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The close codes a client gets after its handshake, as docs/sessions.md lists them, each from the
 * situation that sends it: its code and its public reason, and what becomes of the session.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EndingsTest extends FakeLauncherGatewayTest {

    private static void assertClosedWith(Failure failure, FrameClient client) throws Exception {
        assertEquals(failure.closeCode(), client.awaitClose(), failure.tag());
        assertEquals(failure.publicReason(), client.closeReason(), failure.tag());
    }

    @Test
    void aGatewayThatEndsItsSessionsAtShutdownTellsItsClients1001() throws Exception {
        gateway = gatewayOn().onShutdown("end").start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            gateway.close();
            assertClosedWith(Failure.SHUTDOWN, client);
        }
    }

    @Test
    void aClientThatAnswersNoPingIsLetGoWith1001AndItsSessionWaits() throws Exception {
        gateway = gatewayOn().keepalive("200ms").start(vertx);
        try (RawWebSocket silent = RawWebSocket.open(gateway.port, Map.of())) { // reads, never answers a ping
            RawWebSocket.Frame close = silent.awaitClose();
            assertEquals(Failure.KEEPALIVE_TIMEOUT.closeCode(), close.closeCode());
            assertEquals(
                    Failure.KEEPALIVE_TIMEOUT.publicReason(),
                    new String(
                            close.payload(), 2, close.payload().length - 2, java.nio.charset.StandardCharsets.UTF_8));
        }
        Await.until(
                () -> gateway.get("/health").contains("\"detached\":1"), 10_000, "the session waits for its client");
    }

    @Test
    void aBackendConnectionThatDropsWithoutACloseFrameEndsTheSessionWith1011BackendLost() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            launcher.backend(key).dropTcp(); // the backend runs on: not an exit
            assertClosedWith(Failure.BACKEND_LOST, client);
        }
        assertTrue(gateway.get("/metrics")
                .contains("berth_sessions_ended_total{reason=\"backend_lost\",route=\"" + gateway.route + "\"} 1.0"));
    }

    @Test
    void aBackendThatBreaksTheProtocolEndsTheSessionWith1011AndNothingOfItReachesTheClient() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            launcher.backend(key)
                    .pushFrame(WebSocketFrame.continuationFrame(Buffer.buffer("no message to continue"), true));
            assertClosedWith(Failure.BACKEND_PROTOCOL, client);
            for (WebSocketFrame frame; (frame = client.pollFrame(0)) != null; ) {
                assertTrue(
                        frame.isClose() || !frame.binaryData().toString().contains("no message to continue"),
                        "it got through");
            }
        }
        try {
            Await.until(
                    () -> launcher.backends().get(0).closeCodes.contains((short) 1002),
                    10_000,
                    "the backend was told 1002");
        } catch (AssertionError notTold) {
            throw new AssertionError(
                    notTold.getMessage() + ", it heard " + launcher.backends().get(0).closeCodes, notTold);
        }
    }

    @Test
    void aClientWithProgressWhoseStartCannotGoOnNowGets1013() throws Exception {
        launcher.failingLaunches(Failure.ENGINE_UNAVAILABLE, "no engine answers");
        gateway = gatewayOn().start(vertx);
        try (RawWebSocket client =
                RawWebSocket.open(InetAddress.getLoopbackAddress(), gateway.port, "/ws?progress=1", Map.of())) {
            assertEquals(101, client.status, "accepted before its start");
            RawWebSocket.Frame close = client.awaitClose();
            assertEquals(1013, close.closeCode());
            assertEquals(
                    Failure.ENGINE_UNAVAILABLE.publicReason(),
                    new String(
                            close.payload(), 2, close.payload().length - 2, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Test
    void aNewTokenSecretMakesEveryEarlierToken401AndItsCookieCleared() throws Exception {
        gateway = gatewayOn().onShutdown("keep").start(vertx);
        String token;
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            token = client.sessionToken();
        }
        Await.until(() -> launcher.running() == 0, 10_000, "ended with its client's 1000");
        gateway.close();
        Files.delete(gateway.tokenSecret); // the operator replaced the secret: the gateway makes a new one
        gateway = gatewayOn().sameAs(gateway).start(vertx);
        try (RawWebSocket old = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
            assertEquals(401, old.status);
            assertTrue(old.headers.get("set-cookie").contains("Max-Age=0"), old.headers.toString());
        }
    }
}
