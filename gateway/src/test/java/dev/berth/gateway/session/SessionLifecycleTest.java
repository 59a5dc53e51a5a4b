package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FlakyLink;
import dev.berth.gateway.FrameClient;
import io.vertx.core.http.WebSocketFrame;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The session's clocks and claims, fast: each backend is an echo server inside this JVM (the
 * real engine proves the rest in DockerSessionTest), reached through a real gateway by real
 * websocket clients.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@Tag("long")
class SessionLifecycleTest extends FakeLauncherGatewayTest {

    @Override
    protected Duration launchTime() {
        return Duration.ofMillis(300);
    }

    @Test
    void clientsThatLeaveDuringTheLaunchFreeTheirSlotAndTheirBackend() throws Exception {
        gateway = gatewayOn().maxSessions(1).start(vertx);
        for (int i = 1; i <= 5; i++) {
            try (Socket raw = new Socket("127.0.0.1", gateway.port)) {
                OutputStream out = raw.getOutputStream();
                out.write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread.sleep(50); // gone long before the 300ms launch ends, so it never learns its token
            }
            int launched = i;
            awaitTrue(
                    () -> launcher.launches.get() == launched
                            && launcher.running() == 0
                            && gateway.get("/health").contains("\"sessions\":0"),
                    "the abandoned launch was stopped and its slot freed");
        }
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            assertTrue(client.hello().getString("session").length() > 0, "the one slot is free for a real client");
        }
        assertTrue(gateway.get("/metrics")
                .contains("berth_sessions_ended_total{reason=\"abandoned\",route=\"" + gateway.route + "\"} 5.0"));
    }

    @Test
    void aReconnectThatArrivesInTimeKeepsItsSessionHoweverSlowTheBackendAcceptsWebsockets() throws Exception {
        launcher.slowHandshakes(Duration.ofMillis(1500)); // longer than the grace: a per-client re-dial would lose it
        gateway = gatewayOn().grace("2s").start(vertx);
        String key;
        String token;
        try (FrameClient first = FrameClient.connect(vertx, gateway.port, null)) {
            key = first.hello().getString("session");
            token = first.sessionToken();
            first.leave();
        }
        Thread.sleep(1000); // back well within the grace
        try (FrameClient back = FrameClient.connect(vertx, gateway.port, token)) {
            Thread.sleep(2000); // past where the grace would have ended
            back.socket().writeTextMessage("still mine");
            assertEquals("still mine", back.nextDataFrame().textData());
            assertEquals(1, launcher.backend(key).connections.get(), "the backend was dialled once, by the session");
            assertEquals(1, launcher.launches.get());
        }
    }

    @Test
    void idleTimeoutCountsDataFramesNotPings() throws Exception {
        gateway = gatewayOn().idle("2s").keepalive("200ms").start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            Thread.sleep(500); // pings go both ways meanwhile
            long sent = System.nanoTime();
            client.socket().writeTextMessage("activity"); // restarts the idle clock
            assertEquals(1001, client.awaitClose());
            // The gateway reads the frame after it was sent, and closes a full idle timeout after that:
            // measured from the send, this holds however late a loaded machine runs either side.
            long quietMs = (System.nanoTime() - sent) / 1_000_000;
            assertTrue(quietMs >= 2000, "the data frame counted as activity: closed " + quietMs + "ms after it");
            assertEquals("session idle for too long: reconnect to start a new one", client.closeReason());
        }
        assertTrue(gateway.get("/metrics")
                .contains("berth_sessions_ended_total{reason=\"idle_timeout\",route=\"" + gateway.route + "\"} 1.0"));
    }

    @Test
    void maxLifetimeEndsEvenABusySession() throws Exception {
        gateway = gatewayOn().maxLifetime("1s").start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            for (int i = 0; i < 30 && !client.socket().isClosed(); i++) {
                client.socket().writeTextMessage("busy " + i);
                Thread.sleep(100);
            }
            assertEquals(1001, client.awaitClose());
            assertEquals("session reached its maximum lifetime: reconnect to start a new one", client.closeReason());
        }
    }

    @Test
    void keepalivePingsTheClientAndLetsGoOfOneThatStoppedAnswering() throws Exception {
        // 1 s: a client answers a ping within two intervals even on a loaded machine (at 200 ms, one
        // whose pong took 400 ms under a CPU burner was let go before the test froze anything).
        gateway = gatewayOn().keepalive("1s").start(vertx);
        try (FlakyLink link = new FlakyLink(vertx, gateway.port);
                FrameClient client = FrameClient.connect(vertx, link.port, null)) {
            client.hello();
            int pings = 0;
            long until = System.currentTimeMillis() + 10_000;
            while (pings < 2 && System.currentTimeMillis() < until) {
                WebSocketFrame frame = client.pollFrame(until - System.currentTimeMillis());
                pings += frame != null && frame.isPing() ? 1 : 0;
            }
            assertEquals(2, pings, "pinged every second");
            assertTrue(gateway.get("/health").contains("\"attached\":1"), "a client that answers its pings stays");
            link.freeze(); // the client's network went silent without closing anything
            awaitTrue(
                    () -> gateway.get("/health").contains("\"detached\":1"),
                    "let go after two silent intervals; the session waits");
            assertEquals(1, launcher.running(), "the backend is kept for the client's return");
            link.cut();
        }
    }

    @Test
    void aClientsCloseCodeReachesItsBackend() throws Exception {
        gateway = gatewayOn().start(vertx);
        String key;
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            key = client.hello().getString("session");
            client.socket().close((short) 4123, "client says bye").await(10, TimeUnit.SECONDS);
        }
        awaitTrue(() -> launcher.backend(key).stopped(), "the session ended with its client");
        // The backend hears the close on its own loop, possibly just after it counts as stopped.
        awaitTrue(() -> !launcher.backend(key).closeCodes.isEmpty(), "the backend heard the close");
        assertEquals(java.util.List.of((short) 4123), launcher.backend(key).closeCodes);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        dev.berth.gateway.Await.until(condition, 10_000, what);
    }
}
