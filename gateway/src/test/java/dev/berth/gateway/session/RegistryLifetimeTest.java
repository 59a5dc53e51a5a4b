package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.http.WebSocketFrame;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the registry holds over a gateway's life: many sessions and faults later, its counts and
 * slots are back to zero, and nothing a client can replay makes it hold more.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@Tag("long")
class RegistryLifetimeTest extends FakeLauncherGatewayTest {

    private Sessions.Holdings holdings() throws Exception {
        return gateway.verticle.holdings().await(10, TimeUnit.SECONDS);
    }

    private void awaitNoSession() throws Exception {
        Await.until(
                () -> {
                    try {
                        return holdings().sessions() == 0;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                },
                10_000,
                "every session gone");
    }

    private void awaitEmpty(String after) throws Exception {
        Await.until(
                () -> {
                    try {
                        return holdings()
                                .equals(new Sessions.Holdings(
                                        0, 0, 0, 0, 0, 0, holdings().pooled()));
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                },
                10_000,
                "nothing held after " + after + ": " + holdings());
    }

    /** A token whose session is over: a client ended it with 1000. */
    private String endedSessionsToken(String from) throws Exception {
        try (RawWebSocket first =
                RawWebSocket.open(java.net.InetAddress.getByName(from), gateway.port, "/ws", Map.of())) {
            assertEquals(101, first.status);
            first.send(true, RawWebSocket.CLOSE, RawWebSocket.closePayload(1000, new byte[0]));
            first.awaitClose();
            return first.headers.get("berth-session");
        }
    }

    @Test
    void tokensOfSessionsNoGatewayHoldsLeaveNoTakeOverBehind() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token = endedSessionsToken("127.0.0.1");
        for (int i = 0; i < 50; i++) { // each one looks for its session on the engine, finds none, and starts anew
            awaitNoSession();
            try (RawWebSocket again = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
                assertEquals(101, again.status);
                assertNotEquals(token, again.headers.get("berth-session"));
                again.send(true, RawWebSocket.CLOSE, RawWebSocket.closePayload(1000, new byte[0]));
                again.awaitClose();
            }
        }
        assertEquals(50, launcher.takeOvers.get());
        awaitEmpty("50 tokens of ended sessions");
    }

    @Test
    void replayedTokensAreAdmittedBeforeTheEngineIsAsked() throws Exception {
        gateway = gatewayOn().sessions("perClient: {newPerMinute: 3}").start(vertx);
        String token = endedSessionsToken("127.0.0.8"); // takes one of the three
        int refused = 0;
        for (int i = 0; i < 10; i++) {
            awaitNoSession(); // the token names no session any more: each try is a look on the engine
            try (RawWebSocket replay = RawWebSocket.open(
                    java.net.InetAddress.getByName("127.0.0.8"),
                    gateway.port,
                    "/ws",
                    Map.of("Cookie", "berth_session=" + token))) {
                if (replay.status == 429) {
                    refused++;
                } else {
                    replay.send(true, RawWebSocket.CLOSE, RawWebSocket.closePayload(1000, new byte[0]));
                    replay.awaitClose();
                }
            }
        }
        assertEquals(8, refused, "a minute's worth of new sessions (3), a look on the engine counting as one");
        assertEquals(2, launcher.takeOvers.get(), "the refused ones never reached the engine");
        awaitEmpty("replayed tokens");
    }

    @Test
    void anAbandonedQueuedSessionFreesItsSlotAtOnceAndIsNeverLaunched() throws Exception {
        launcher = new FakeLauncher(vertx, Duration.ofSeconds(6));
        gateway = gatewayOn()
                .maxSessions(2)
                .grace("1s")
                .sessions("launches: {maxConcurrent: 1, queue: 4}")
                .start(vertx);
        try (Socket launching = upgradeWithoutWaiting();
                Socket queued = afterSessions(1, this::upgradeWithoutWaiting)) {
            afterSessions(2, () -> null); // one launching, one queued behind it
            queued.close(); // its client leaves while it waits for a launch slot
            Await.until(
                    () -> {
                        try {
                            return holdings().sessions() == 1 && holdings().launches() == 1;
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    },
                    3_000,
                    "the queued one gave its slot back at once, not after a launch of 6 s: " + holdings());
            try (Socket next = upgradeWithoutWaiting()) { // takes the route's second slot, behind the first launch
                Await.until(() -> launcher.launches.get() == 2 && launcher.running() <= 2, 20_000, "launched in turn");
            }
        }
        assertEquals(2, launcher.launches.get(), "the abandoned launch never ran");
        awaitEmpty("an abandoned queued session");
    }

    /** Waits until the registry holds {@code count} sessions, then does {@code next}. */
    private <T> T afterSessions(int count, java.util.concurrent.Callable<T> next) throws Exception {
        Await.until(
                () -> {
                    try {
                        return holdings().sessions() == count;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                },
                5_000,
                count + " session(s) registered");
        return next.call();
    }

    private Socket upgradeWithoutWaiting() throws Exception {
        Socket socket = new Socket("127.0.0.1", gateway.port);
        OutputStream out = socket.getOutputStream();
        out.write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    @Test
    void aPooledWebsocketThatClosedJustBeforeItsClaimStrandsNoSession() throws Exception {
        gateway = gatewayOn().route("pool: {size: 1}").start(vertx);
        int started = 0;
        for (int round = 0; round < 30; round++) {
            Await.until(
                    () -> gateway.get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                    10_000,
                    "the pool refilled");
            launcher.backends().stream()
                    .filter(backend -> !backend.stopped() && backend.sessionKey.startsWith("pool-"))
                    .forEach(FakeLauncher.EchoBackend::dropConnection); // its handler went away while it waited
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                // Started on the next backend; or, when the drop came just after its claim, ended by it (1001).
                WebSocketFrame first = client.pollFrame(10_000);
                if (first != null && first.isText()) {
                    client.socket().writeTextMessage("round " + round);
                    WebSocketFrame echo = client.pollFrame(10_000);
                    if (echo != null && echo.isText() && echo.textData().equals("round " + round)) {
                        started++;
                        continue;
                    }
                }
                assertEquals(1001, client.awaitClose(), "round " + round + ": neither served nor ended by its backend");
            }
        }
        assertTrue(started >= 15, started + " of 30 rounds started");
        awaitNoSession();
        awaitEmpty("30 claims raced by a closing pool websocket");
    }

    /**
     * The reaper can find a backend while a client's take-over is making it this gateway's and
     * before the session that holds it is registered (seen on a swarm: the second gateway stopped
     * the service it had just taken over, and the client got 1001). The same backend is left alone.
     */
    @Test
    void aBackendTheReaperFindsAgainWhileItsSessionHoldsItIsLeftAlone() throws Exception {
        gateway = gatewayOn().reapInterval("100ms").start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            launcher.leaveAllRunning();
            int looked = launcher.discoveries.get();
            Await.until(() -> launcher.discoveries.get() >= looked + 2, 10_000, "the reaper looked twice");
            client.socket().writeTextMessage("still there");
            assertEquals("still there", client.nextDataFrame().textData(), "the session goes on");
            assertEquals(1, launcher.running(), "its backend was not stopped");
        }
    }

    @Test
    void aSecondBackendForALiveSessionIsStopped() throws Exception {
        gateway = gatewayOn().reapInterval("100ms").start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            launcher.leaveDuplicateOf(key).await(10, TimeUnit.SECONDS);
            client.socket().writeTextMessage("still there");
            assertEquals("still there", client.nextDataFrame().textData(), "the session goes on, on its own backend");
        }
    }
}
