package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.InJvmLauncher;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What a user of Berth can count on from a session, whatever launcher runs it: the edge, the
 * registry, the pipe and the resume protocol, held against the shipped session handler itself,
 * run inside the test JVM ({@link InJvmLauncher}) so the whole contract takes seconds. The
 * launcher-dependent part ({@link LauncherContractTest}) runs here too, and on each real launcher.
 */
@Tag("long")
class SessionBehaviourTest extends LauncherContractTest {

    private InJvmLauncher launcher;

    SessionBehaviourTest() {
        super(null); // the shipped handler in this JVM: backends and gateway below
    }

    @Override
    TestBackends backends(Vertx vertx) {
        launcher = new InJvmLauncher(vertx);
        return new InJvmTestBackends(launcher);
    }

    @Override
    TestGateway.Builder gatewayOn() {
        return TestGateway.with((v, config, watch) -> io.vertx.core.Future.succeededFuture(launcher));
    }

    @Test
    void sessionTokenIsLongRandomAndSetAsAStrictCookie() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String token = client.sessionToken();
            assertTrue(
                    token.matches("[A-Za-z0-9_-]{56}"),
                    "144 random bits, an expiry and a 128-bit tag, base64url: " + token);
            String cookie = client.socket().headers().get("Set-Cookie");
            assertTrue(cookie.startsWith("berth_session=" + token), cookie);
            String attributes = cookie.toLowerCase(java.util.Locale.ROOT);
            assertTrue(
                    attributes.contains("; httponly")
                            && attributes.contains("; samesite=lax")
                            && attributes.contains("; path=/ws"),
                    cookie);
            assertFalse(client.hello().encode().contains(token), "the backend must never see the client's token");
        }
    }

    @Test
    void pingsAreHopByHopAndAnsweredByExactlyOnePong() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            client.hello();
            client.socket().writePing(Buffer.buffer("are you there?"));
            assertEquals("are you there?", client.nextPong().toString());
            long deadline = System.currentTimeMillis() + 500;
            for (WebSocketFrame frame; (frame = client.pollFrame(deadline - System.currentTimeMillis())) != null; ) {
                assertNotEquals(WebSocketFrameType.PONG, frame.type(), "a second pong: the ping was forwarded as well");
            }
            assertEquals(0, client.state().getLong("pingsReceived"), "the backend never sees the client's pings");
        }
    }

    @Test
    void clientThatClosesWithACodeEndsItsSessionAndItsBackendAtOnce() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        String key;
        try (FrameClient client = connect(null)) {
            token = client.sessionToken();
            key = client.hello().getString("session");
            client.socket().close((short) 4123, "client says bye").await(20, TimeUnit.SECONDS);
        }
        awaitTrue(() -> backends.running(gateway.route, key) == 0, 10_000, "backend removed well before the 30s grace");
        assertTrue(get("/metrics")
                .contains("berth_sessions_ended_total{reason=\"client_ended\",route=\"" + gateway.route + "\"} 1.0"));
        try (FrameClient again = connect(token)) {
            assertNotEquals(key, again.hello().getString("session"), "an ended session is never resumed");
        }
    }

    @Test
    void backendCloseCodeAndReasonReachTheClient() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            client.sendJson(
                    new JsonObject().put("cmd", "close").put("code", 4321).put("reason", "handler says bye"));
            assertEquals(4321, client.awaitClose());
            assertEquals("handler says bye", client.closeReason());
            awaitTrue(
                    () -> backends.running(gateway.route, key) == 0,
                    10_000,
                    "the session ended with its backend's close");
        }
    }

    @Test
    void newerConnectionTakesTheSessionOverTheOlderGets4001AndItsEchoEndsNothing() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient older = connect(null)) {
            String key = older.hello().getString("session");
            try (FrameClient newer = connect(older.sessionToken())) {
                assertEquals(4001, older.awaitClose());
                assertEquals(Failure.REPLACED.publicReason(), older.closeReason(), "replaced, not moved away");
                assertEquals(key, newer.state().getString("session"));
                newer.socket().writeTextMessage("still piped");
                assertEquals("still piped", newer.nextDataFrame().textData());
                // The older client answered the gateway's 4001 with a 4001 of its own: that ends nothing.
                try (FrameClient third = connect(older.sessionToken())) {
                    assertEquals(4001, newer.awaitClose());
                    assertEquals(key, third.state().getString("session"));
                }
            }
        }
    }

    @Test
    void handoverLosesNoFrameTheBackendSentInBetween() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient older = connect(null)) {
            older.hello();
            older.sendJson(new JsonObject().put("cmd", "feed").put("perSecond", 200));
            List<Long> seen = new ArrayList<>(older.listingSeqs(20));
            try (FrameClient newer = connect(older.sessionToken())) {
                assertEquals(4001, older.awaitClose());
                seen.addAll(older.listingSeqsUntilClosed());
                seen.addAll(newer.listingSeqs(40));
                assertContiguous(seen);
            }
        }
    }

    @Test
    void framesSentWhileNoClientIsAttachedAreDeliveredInOrderOnReturn() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        List<Long> seen = new ArrayList<>();
        try (FrameClient first = connect(null)) {
            token = first.sessionToken();
            first.hello();
            first.sendJson(new JsonObject().put("cmd", "feed").put("perSecond", 100));
            seen.addAll(first.listingSeqs(10));
            first.leave();
            seen.addAll(first.listingSeqsUntilClosed());
        }
        Thread.sleep(1000); // about 100 listings are sent to no one
        try (FrameClient second = connect(token)) {
            seen.addAll(second.listingSeqs(150));
            assertContiguous(seen);
        }
    }

    @Test
    void detachedSessionWhoseBackendOutrunsItsBufferWaitsPausedAndTheReturningClientLosesNothing() throws Exception {
        gateway = gatewayOn().buffer("64k", 16).start(vertx);
        String token;
        String key;
        List<Long> before;
        try (FrameClient client = connect(null)) {
            token = client.sessionToken();
            key = client.hello().getString("session");
            client.sendJson(new JsonObject().put("cmd", "feed").put("perSecond", 200));
            before = new ArrayList<>(client.listingSeqs(5));
            client.leave();
            before.addAll(client.listingSeqsUntilClosed());
        }
        // 200 updates a second to no one: the gateway holds half its bound (8 frames), then pauses the
        // backend, whose feed then skips, as it does for any slow reader; nothing ends the session.
        Thread.sleep(1500); // the client is away this long
        assertTrue(
                get("/metrics")
                        .contains("berth_sessions_ended_total{reason=\"buffer_overflow\",route=\"" + gateway.route
                                + "\"} 0.0"),
                "not ended for what it held");
        try (FrameClient again = connect(token)) {
            List<Long> after = again.listingSeqs(20);
            assertEquals(1, backends.running(gateway.route, key), "its own backend");
            long last = before.isEmpty() ? 0 : before.get(before.size() - 1);
            for (int i = 0; i < after.size(); i++) {
                assertEquals(last + 1 + i, (long) after.get(i), "held in order, none lost, none again: " + after);
            }
        }
    }

    @Test
    void tenSimultaneousConnectsWithOneCookieGiveOneBackend() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        String key;
        try (FrameClient first = connect(null)) {
            token = first.sessionToken();
            key = first.hello().getString("session");
            first.leave();
        }
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<FrameClient> clients = new ArrayList<>();
        try {
            List<Future<FrameClient>> connecting = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                connecting.add(pool.submit(() -> connect(token)));
            }
            for (Future<FrameClient> each : connecting) {
                clients.add(each.get(30, TimeUnit.SECONDS));
            }
            awaitTrue(
                    () -> clients.stream().filter(c -> !c.socket().isClosed()).count() == 1,
                    10_000,
                    "all but the newest connection were taken over");
            for (FrameClient client : clients) {
                if (client.socket().isClosed()) {
                    assertEquals((short) 4001, client.socket().closeStatusCode());
                } else {
                    assertEquals(key, client.state().getString("session"));
                }
            }
            assertEquals(1, backends.running(gateway.route), "one backend for the one session");
        } finally {
            pool.shutdownNow();
            for (FrameClient client : clients) {
                client.close();
            }
        }
    }

    @Test
    void resumeProtocolSurvivesAConnectionCutMidStreamWithNoLossOrDuplicateEitherWay() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FlakyLink link = new FlakyLink(vertx, gateway.port);
                ResumingClient client = new ResumingClient(vertx)) {
            client.connect(link.port);
            client.send("{\"cmd\":\"feed\",\"perSecond\":0}");
            for (int i = 1; i <= 150; i++) {
                client.send("m" + i);
            }
            client.receiveUntil("m", 5);
            link.cut(); // mid-stream: messages are in flight both ways
            assertFalse(client.receiveUntil("m", 300), "the cut dropped the connection");

            client.connect(link.port);
            for (int i = 151; i <= 300; i++) {
                client.send("m" + i);
            }
            assertTrue(client.receiveUntil("m", 300));
            List<String> echoes = client.received().stream()
                    .filter(text -> text.startsWith("m"))
                    .toList();
            for (int i = 0; i < 300; i++) {
                assertEquals("m" + (i + 1), echoes.get(i), "every echo once, in order");
            }
            client.send("{\"cmd\":\"state\"}");
            assertTrue(client.receiveUntil("{\"type\":\"state\"", 1));
            JsonObject state =
                    new JsonObject(client.received().get(client.received().size() - 1));
            assertEquals(300, state.getLong("framesReceived"), "the backend got every client message exactly once");
            assertEquals(1, state.getLong("connections"), "the backend never saw the cut");
        }
    }

    @Test
    void protocolErrorsGetTheirCloseCodesAndNothingInvalidReachesTheBackend() throws Exception {
        gateway = gatewayOn().env("BERTH_FEED_PER_SECOND", "0").start(vertx);
        String token;
        try (RawWebSocket client = RawWebSocket.open(gateway.port, java.util.Map.of())) {
            token = client.headers.get("berth-session");
            client.nextIgnoringPings(); // hello
            client.send(false, RawWebSocket.TEXT, "valid ".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            client.send(false, RawWebSocket.CONTINUATION, new byte[] {'a', (byte) 0xE2});
            client.send(true, RawWebSocket.CONTINUATION, new byte[] {(byte) 0xC0, (byte) 0x80}); // invalid
            assertEquals(1007, client.awaitClose().closeCode());
        }
        try (RawWebSocket again =
                RawWebSocket.open(gateway.port, java.util.Map.of("Cookie", "berth_session=" + token))) {
            assertEquals(101, again.status, "the session waited for its client");
            again.send(true, 0b100, RawWebSocket.TEXT, "rsv".getBytes(java.nio.charset.StandardCharsets.UTF_8), true);
            assertEquals(1002, again.awaitClose().closeCode());
        }
        try (FrameClient back = connect(token)) {
            JsonObject state = back.state(); // a backend that had seen invalid UTF-8 would have closed with 1007
            assertEquals(
                    3,
                    state.getLong("framesReceived"),
                    "two fragments, the second without its cut code point, then an empty final one");
            assertEquals("valid a".length(), state.getLong("bytesReceived"));
        }
    }

    @Test
    void forgedTokenIsRefusedWithoutLaunchingAnythingAndTheCookieCleared() throws Exception {
        gateway = gatewayOn().start(vertx);
        String forged = "A".repeat(56);
        java.util.Map<String, String> cookie = java.util.Map.of("Cookie", "berth_session=" + forged);
        try (RawWebSocket refused = RawWebSocket.open(gateway.port, cookie)) {
            assertEquals(401, refused.status);
            assertEquals(
                    "Bearer realm=\"berth\", error=\"invalid_token\"",
                    refused.headers.get("www-authenticate"),
                    "a 401 carries its challenge (RFC 9110)");
            assertTrue(
                    refused.headers.get("set-cookie").startsWith("berth_session=; Path=/ws; Max-Age=0"),
                    refused.headers.toString());
        }
        assertEquals(0, backends.running(gateway.route), "nothing launched for a forged token");
        assertTrue(get("/metrics")
                .contains("berth_refusals_total{reason=\"invalid_token\",route=\"" + gateway.route + "\"} 1.0"));
    }

    @Test
    void slowReaderPausesTheWriterAndLosesNothing() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            WebSocket socket = client.socket();
            client.sendJson(new JsonObject().put("cmd", "feed").put("perSecond", 0));
            client.nextMessage("feed");
            socket.pause(); // this client stops reading: echoes back up through gateway and handler

            byte[] chunk = new byte[256 << 10];
            long sent = 0;
            long stalledSince = 0;
            long cap = 512L << 20;
            while (sent < cap) {
                if (socket.writeQueueFull()) {
                    stalledSince = stalledSince == 0 ? System.nanoTime() : stalledSince;
                    if (System.nanoTime() - stalledSince > TimeUnit.SECONDS.toNanos(2)) {
                        break;
                    }
                    Thread.sleep(20);
                } else {
                    stalledSince = 0;
                    socket.writeBinaryMessage(Buffer.buffer(chunk));
                    sent += chunk.length;
                }
            }
            assertTrue(sent < cap, "the writer was never held back: sent " + (sent >> 20) + " MiB");

            socket.resume();
            long echoed = 0;
            while (echoed < sent) {
                echoed += client.nextDataFrame().binaryData().length();
            }
            assertEquals(sent, echoed, "every byte came back once the reader caught up");
        }
    }

    @Test
    void plainHttpOnTheWebsocketPathIsAnswered426() throws Exception {
        gateway = gatewayOn().start(vertx);
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port + "/ws"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(426, response.statusCode());
        assertTrue(response.body().contains("websocket"), response.body());
        assertEquals(0, backends.running(gateway.route), "no backend is launched for a non-websocket request");
    }

    @Test
    void routeAtCapacityRefusesNewSessionsWith503AndRetryAfter() throws Exception {
        gateway = gatewayOn().maxSessions(1).start(vertx);
        try (FrameClient first = connect(null)) {
            first.hello();
            Throwable refusal = FrameClient.refusal(vertx, gateway.port);
            UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, refusal);
            assertEquals(503, rejected.getStatus());
            assertEquals("5", rejected.getHeaders().get("Retry-After"));
            assertEquals(1, backends.running(gateway.route));
            first.socket().writeTextMessage("the existing session is undisturbed");
            assertEquals(
                    "the existing session is undisturbed", first.nextDataFrame().textData());
        }
    }

    @Test
    void metricsCountLaunchesSessionsAndFrames() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            client.hello(); // the handler's own first frame: the echo below is the next one
            client.socket().writeTextMessage("count me");
            assertEquals("count me", client.nextDataFrame().textData()); // it went through, so it was counted
            String metrics = get("/metrics");
            String route = "route=\"" + gateway.route + "\"";
            assertTrue(metrics.contains("berth_launches_total{outcome=\"success\"," + route + "} 1.0"), metrics);
            assertTrue(
                    metrics.contains("berth_launch_duration_seconds_count{outcome=\"success\"," + route + "} 1"),
                    metrics);
            assertTrue(metrics.contains("berth_sessions_active 1.0"), metrics);
            assertTrue(metrics.matches("(?s).*berth_frames_total\\{direction=\"client_to_backend\"} [1-9].*"), metrics);
            assertTrue(
                    metrics.matches("(?s).*berth_frame_bytes_total\\{direction=\"backend_to_client\"} [1-9].*"),
                    metrics);
            assertTrue(
                    metrics.contains(
                            "berth_session_transitions_total{route=\"" + gateway.route + "\",state=\"attached\"} 1.0"),
                    metrics);
        }
    }

    @Test
    void refusalsAreCountedByReason() throws Exception {
        gateway = gatewayOn().maxSessions(1).start(vertx);
        try (FrameClient first = connect(null)) {
            first.hello();
            FrameClient.refusal(vertx, gateway.port);
            get("/ws");
            String metrics = get("/metrics");
            String route = "route=\"" + gateway.route + "\"";
            assertTrue(metrics.contains("berth_refusals_total{reason=\"capacity\"," + route + "} 1.0"), metrics);
            assertTrue(metrics.contains("berth_refusals_total{reason=\"not_websocket\"," + route + "} 1.0"), metrics);
        }
    }
}
