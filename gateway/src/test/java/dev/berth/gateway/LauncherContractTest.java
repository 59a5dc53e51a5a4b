package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What a session needs of its launcher, held against each real one (docker, process, swarm, each
 * with a subclass) with real websocket clients: a backend of its own per session, started with its
 * progress told, the route's environment, frames of every kind through the real network path, the
 * same backend for a returning client, removal after the grace period, a crash told as 1011, and
 * no backend address shown to anyone. The rest of the session contract does not depend on the
 * launcher and runs on the shipped handler inside the test JVM ({@link SessionBehaviourTest}).
 */
abstract class LauncherContractTest extends RealLauncherTest {

    LauncherContractTest(dev.berth.gateway.config.LauncherKind kind) {
        super(kind);
    }

    private static void assertFrame(WebSocketFrame frame, WebSocketFrameType type, boolean fin, String payload) {
        assertEquals(type, frame.type());
        assertEquals(fin, frame.isFinal());
        assertEquals(payload, frame.binaryData().toString());
    }

    /** The labels every launcher puts on session {@code key}'s backend of this test's gateway (the default one, version test). */
    java.util.Map<String, String> expectedLabels(String key) {
        return java.util.Map.of(
                "berth.managed", "true",
                "berth.session", key,
                "berth.route", gateway.route,
                "berth.version", "test",
                "berth.gateway", "default");
    }

    static void assertContiguous(List<Long> seqs) {
        assertFalse(seqs.isEmpty());
        for (int i = 1; i < seqs.size(); i++) {
            assertEquals(
                    seqs.get(i - 1) + 1,
                    seqs.get(i),
                    "listing " + i + " of " + seqs.size() + " after " + seqs.get(i - 1)
                            + ": every frame the backend sent arrives once, in order");
        }
    }

    @Test
    void aClientThatAsksForProgressHearsItsBackendStartBeforeItsFirstFrame() throws Exception {
        gateway = gatewayOn().start(vertx);
        assertEquals(List.of("starting", "running", "ready"), phasesBeforeTheFirstFrame());
    }

    /**
     * The progress phases a new client that asks for them hears, in order, before its backend's first
     * frame (its hello, from its own new backend).
     */
    List<String> phasesBeforeTheFirstFrame() throws Exception {
        try (RawWebSocket client = RawWebSocket.open(
                java.net.InetAddress.getLoopbackAddress(), gateway.port, "/ws?progress=1", java.util.Map.of())) {
            assertEquals(101, client.status, "accepted before its backend runs");
            List<String> phases = new ArrayList<>();
            JsonObject frame = new JsonObject(client.nextIgnoringPings().text());
            while ("progress".equals(frame.getString("berth"))) {
                phases.add(frame.getString("phase"));
                frame = new JsonObject(client.nextIgnoringPings().text());
            }
            assertEquals("hello", frame.getString("type"), "then its backend's first frame: " + frame);
            assertEquals(1, backends.running(gateway.route, frame.getString("session")));
            return phases;
        }
    }

    @Test
    void twoClientsGetTwoDifferentBackends() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient alice = connect(null);
                FrameClient bob = connect(null)) {
            String aliceKey = alice.hello().getString("session");
            String bobKey = bob.hello().getString("session");
            assertNotEquals(aliceKey, bobKey);
            assertNotEquals(alice.sessionToken(), bob.sessionToken());
            assertEquals(1, backends.running(gateway.route, aliceKey));
            assertEquals(1, backends.running(gateway.route, bobKey));

            alice.socket().writeTextMessage("only alice's backend sees this");
            alice.nextDataFrame();
            assertEquals(1, alice.state().getLong("framesReceived"));
            assertEquals(0, bob.state().getLong("framesReceived"));
        }
    }

    @Test
    void everyKindOfFrameRoundTripsUnchanged() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            client.hello();
            WebSocket socket = client.socket();

            socket.writeTextMessage("héllo, wörld ✓");
            WebSocketFrame text = client.nextDataFrame();
            assertEquals(WebSocketFrameType.TEXT, text.type());
            assertEquals("héllo, wörld ✓", text.textData());

            byte[] mebibyte = new byte[1 << 20];
            new Random(42).nextBytes(mebibyte);
            socket.writeBinaryMessage(Buffer.buffer(mebibyte));
            WebSocketFrame binary = client.nextDataFrame();
            assertEquals(WebSocketFrameType.BINARY, binary.type());
            assertArrayEquals(mebibyte, binary.binaryData().getBytes());

            socket.writeFrame(WebSocketFrame.textFrame("first ", false));
            socket.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer("second "), false));
            socket.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer("third"), true));
            assertFrame(client.nextDataFrame(), WebSocketFrameType.TEXT, false, "first ");
            assertFrame(client.nextDataFrame(), WebSocketFrameType.CONTINUATION, false, "second ");
            assertFrame(client.nextDataFrame(), WebSocketFrameType.CONTINUATION, true, "third");

            socket.writeFrame(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[] {1, 2}), false));
            socket.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(new byte[] {3}), true));
            WebSocketFrame firstPart = client.nextDataFrame();
            assertEquals(WebSocketFrameType.BINARY, firstPart.type());
            assertFalse(firstPart.isFinal());
            assertArrayEquals(new byte[] {1, 2}, firstPart.binaryData().getBytes());
            assertArrayEquals(
                    new byte[] {3}, client.nextDataFrame().binaryData().getBytes());

            assertEquals(
                    7,
                    client.state().getLong("framesReceived"),
                    "1 text + 1 binary + 3 text fragments + 2 binary fragments");
        }
    }

    @Test
    void reconnectWithTheCookieReturnsToTheSameBackendWithoutRedialingIt() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        String key;
        try (FrameClient first = connect(null)) {
            token = first.sessionToken();
            key = first.hello().getString("session");
            for (int i = 0; i < 3; i++) {
                first.socket().writeTextMessage("frame " + i);
                first.nextDataFrame();
            }
            first.leave();
        }
        try (FrameClient second = connect(token)) {
            JsonObject state = second.state();
            assertEquals(key, state.getString("session"));
            assertEquals(3, state.getLong("framesReceived"));
            assertEquals(
                    1, state.getLong("connections"), "the session's own websocket to its backend outlived the client");
            assertEquals(1, backends.running(gateway.route), "no second backend for a returning client");
        }
    }

    @Test
    void routeEnvironmentReachesTheBackendSoItsFeedCanBeSwitchedOff() throws Exception {
        gateway = gatewayOn().env("BERTH_FEED_PER_SECOND", "0").start(vertx);
        try (FrameClient client = connect(null)) {
            client.hello();
            long until = System.currentTimeMillis() + 1500; // the default feed sends 2 a second
            for (WebSocketFrame frame; (frame = client.pollFrame(until - System.currentTimeMillis())) != null; ) {
                assertFalse(
                        frame.isText() && frame.textData().contains("\"listing\""),
                        "a listing came: " + frame.textData());
            }
            client.socket().writeTextMessage("pure echo");
            assertEquals("pure echo", client.nextDataFrame().textData());
        }
    }

    @Test
    void backendOfAClientThatLeftIsRemovedAfterTheGracePeriod() throws Exception {
        gateway = gatewayOn().grace("2s").start(vertx);
        String key;
        long left;
        try (FrameClient client = connect(null)) {
            key = client.hello().getString("session");
            client.leave();
            left = System.nanoTime(); // the gateway's grace starts when it sees the drop, after this
        }
        awaitTrue(() -> get("/health").contains("\"detached\":1"), 10_000, "the session waits for its client");
        assertEquals(1, backends.running(gateway.route, key), "kept while its client is away");
        awaitTrue(() -> backends.running(gateway.route, key) == 0, 20_000, "backend removed after the grace period");
        long removedAfterMs = (System.nanoTime() - left) / 1_000_000;
        assertTrue(
                removedAfterMs >= 2_000,
                "removed only once the grace was over, not " + removedAfterMs + " ms after the drop");
        awaitTrue(() -> get("/health").contains("\"sessions\":0"), 5_000, "the session is forgotten");
    }

    @Test
    void killedBackendClosesItsClientWith1011() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            backends.kill(gateway.route, key);
            assertEquals(1011, client.awaitClose());
            assertFalse(client.closeReason().isEmpty(), "the close says why");
            awaitTrue(() -> get("/health").contains("\"sessions\":0"), 20_000, "the dead session is forgotten");
            try (FrameClient returning = connect(client.sessionToken())) {
                assertNotEquals(key, returning.hello().getString("session"), "a dead session is not resumed");
            }
        }
    }

    @Test
    void noBackendAddressReachesTheClientOrTheOperatorEndpoints() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            String address = backends.address(gateway.route, key);
            assertTrue(address.matches("[0-9.]+:\\d+"), address);
            String host = address.substring(0, address.indexOf(':'));
            String seen = client.socket().headers().toString()
                    + client.hello().encode()
                    + client.state().encode()
                    + get("/metrics")
                    + get("/health")
                    + get("/");
            assertFalse(seen.contains(address), "the backend's address " + address + " leaked: " + seen);
            if (!host.equals("127.0.0.1")) { // the gateway's own loopback address may appear; a bridge address must not
                assertFalse(seen.contains(host), "the backend's host " + host + " leaked");
            }
        }
    }
}
