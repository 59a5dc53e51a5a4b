package dev.berth.handler;

import static dev.berth.handler.TestClient.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The handler's HTTP and websocket behaviour, its commands, feed, pool claim and idle exit, on the
 * real server ({@link HandlerServerFixture}). Each test gets its own Vertx from
 * {@link VertxExtension}, closed (with the server) after it. A client that does not read is
 * {@link SlowClientTest}'s.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class HandlerServerTest extends HandlerServerFixture {

    @Test
    void readyAnswers200AndOtherPlainRequests404(Vertx vertx) throws Exception {
        start(vertx, BASE);
        HttpClient http = vertx.createHttpClient();
        try {
            // body() must be asked for on the event loop, inside the chain: called later from this
            // thread, the body may already have gone by and the future never completes.
            assertEquals(
                    "200 ready",
                    await(http.request(HttpMethod.GET, port, "localhost", "/ready")
                            .compose(req -> req.send())
                            .compose(resp -> resp.body().map(body -> resp.statusCode() + " " + body))));
            assertEquals(404, (int) await(http.request(HttpMethod.GET, port, "localhost", "/session/x")
                    .compose(req -> req.send())
                    .compose(resp -> resp.body().map(body -> resp.statusCode()))));
            assertEquals(404, (int) await(http.request(HttpMethod.POST, port, "localhost", "/ready")
                    .compose(req -> req.send("x"))
                    .compose(resp -> resp.body().map(body -> resp.statusCode()))));
        } finally {
            await(http.close());
        }
        assertTrue(logText().contains("berth-handler[s-test] listening on 127.0.0.1:" + port), logText());
    }

    @Test
    void helloFrameCarriesSessionVersionHostnameAndConnectionNumber(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        TestClient.Frame first = client.nextFrame();
        assertEquals(WebSocketFrameType.TEXT, first.type());
        JsonObject hello = first.json();
        assertEquals(
                new JsonObject()
                        .put("type", "hello")
                        .put("session", "s-test")
                        .put("version", "9.9.9")
                        .put("hostname", "test-host")
                        .put("connection", 1),
                hello);
        assertTrue(first.text().startsWith("{\"type\":\"hello\",\"session\":\"s-test\""), first.text());
    }

    @Test
    void websocketUpgradeIsAcceptedOnAnyPath(Vertx vertx) throws Exception {
        start(vertx, BASE);
        for (String path : List.of("/", "/ws", "/session/abc/deep/path?x=1")) {
            TestClient client = TestClient.connect(vertx, port, path);
            clients.add(client);
            assertEquals("hello", client.nextOfType("hello").getString("type"));
        }
    }

    @Test
    void oneMebibyteBinaryMessageInOneFrameEchoesBackByteIdentical(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        byte[] payload = new byte[1024 * 1024];
        new Random(42).nextBytes(payload);
        client.send(WebSocketFrame.binaryFrame(Buffer.buffer(payload), true));

        TestClient.Frame echo = client.nextFrame();
        assertEquals(WebSocketFrameType.BINARY, echo.type());
        assertTrue(echo.fin(), "came back as one final frame");
        assertArrayEquals(payload, echo.payload().getBytes());
        assertEquals(1, state.framesReceived());
        assertEquals(payload.length, state.bytesReceived());
    }

    @Test
    void fragmentedTextMessageEchoesBackAsTheSameFragments(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        byte[] whole = "fragmented caf\u00e9 message".getBytes(StandardCharsets.UTF_8);
        int split = new String(whole, StandardCharsets.UTF_8).indexOf('\u00e9') + 1; // inside the 2-byte é
        Buffer part1 = Buffer.buffer(whole).slice(0, 5);
        Buffer part2 = Buffer.buffer(whole).slice(5, split);
        Buffer part3 = Buffer.buffer(whole).slice(split, whole.length);
        // The first fragment is a TEXT frame with fin=false; WebSocketFrame.textFrame takes a String,
        // so build it from the raw bytes the same way for all three.
        client.send(WebSocketFrame.textFrame(part1.toString(), false));
        client.send(WebSocketFrame.continuationFrame(part2, false));
        client.send(WebSocketFrame.continuationFrame(part3, true));

        TestClient.Frame f1 = client.nextFrame();
        TestClient.Frame f2 = client.nextFrame();
        TestClient.Frame f3 = client.nextFrame();
        assertEquals(WebSocketFrameType.TEXT, f1.type());
        assertFalse(f1.fin());
        assertEquals(part1, f1.payload());
        assertEquals(WebSocketFrameType.CONTINUATION, f2.type());
        assertFalse(f2.fin());
        assertEquals(part2, f2.payload());
        assertEquals(WebSocketFrameType.CONTINUATION, f3.type());
        assertTrue(f3.fin());
        assertEquals(part3, f3.payload());
        assertEquals(3, state.framesReceived());
        assertEquals(whole.length, state.bytesReceived());
    }

    @Test
    void feedCommandStopsAndStartsTheListingFeed(Vertx vertx) throws Exception {
        start(vertx, BASE.withFeedPerSecond(2));
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        JsonObject firstListing = client.nextOfType("listing");
        assertListing(firstListing);

        client.send("{\"cmd\":\"feed\",\"perSecond\":0}");
        assertEquals(new JsonObject().put("type", "feed").put("perSecond", 0), client.nextOfType("feed"));
        client.frames.clear();
        Thread.sleep(1_200);
        assertTrue(client.frames.isEmpty(), "no frames after perSecond 0: " + client.frames);

        client.send("{\"cmd\":\"feed\",\"perSecond\":50}");
        assertEquals(new JsonObject().put("type", "feed").put("perSecond", 50), client.nextOfType("feed"));
        long start = System.nanoTime();
        long lastSeq = -1;
        for (int i = 0; i < 20; i++) {
            JsonObject listing = client.nextOfType("listing");
            assertListing(listing);
            assertTrue(listing.getLong("seq") > lastSeq, "seq increases");
            lastSeq = listing.getLong("seq");
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < 2_000, "20 events at 50/s took " + millis + " ms");
        assertEquals(0, state.framesReceived(), "commands are not counted as frames");
    }

    @Test
    void aNewConnectionStartsTheFeedAtTheRateTheSessionLastAskedFor(Vertx vertx) throws Exception {
        start(vertx, BASE.withFeedPerSecond(50));
        TestClient first = connect(vertx);
        first.nextOfType("hello");
        first.send("{\"cmd\":\"feed\",\"perSecond\":0}");
        first.nextOfType("feed");
        first.close();

        TestClient second = connect(vertx); // as a restarted gateway reconnects
        second.nextOfType("hello");
        second.frames.clear();
        Thread.sleep(600);
        assertTrue(second.frames.isEmpty(), "the feed stays paused for the session: " + second.frames);
    }

    @Test
    void aPooledHandlerSaysNothingUntilClaimedAndServesOnlyThatSession(Vertx vertx) throws Exception {
        state = new SessionState(); // BERTH_POOL=1: no session yet
        start(vertx, BASE.withFeedPerSecond(0));
        TestClient gateway = connect(vertx);
        Thread.sleep(300);
        assertTrue(gateway.frames.isEmpty(), "no hello before the claim: " + gateway.frames);
        gateway.send("{\"cmd\":\"claim\",\"session\":\"k-123\"}");
        JsonObject hello = gateway.nextOfType("hello");
        assertEquals("k-123", hello.getString("session"));
        gateway.send("{\"cmd\":\"state\"}");
        assertEquals("k-123", gateway.nextOfType("state").getString("session"));
        gateway.close();

        TestClient thief = connect(vertx); // already claimed: says hello to anyone the gateway sends
        assertEquals("k-123", thief.nextOfType("hello").getString("session"));
        thief.close();
    }

    @Test
    void aPooledHandlerRefusesAnythingButAClaimFirst(Vertx vertx) throws Exception {
        state = new SessionState();
        start(vertx, BASE);
        TestClient client = connect(vertx);
        client.send("hello?");
        assertEquals((short) 1008, client.awaitClosed());
        assertEquals(null, state.sessionKey());
    }

    private static void assertListing(JsonObject listing) {
        assertEquals("listing", listing.getString("type"));
        assertNotNull(listing.getLong("seq"));
        assertTrue(listing.getString("id").matches("L-\\d+"), listing.encode());
        assertTrue(ListingFeed.CITIES.contains(listing.getString("city")), listing.encode());
        assertTrue(listing.getInteger("price") > 0, listing.encode());
        assertTrue(ListingFeed.STATUSES.contains(listing.getString("status")), listing.encode());
        assertTrue(Math.abs(System.currentTimeMillis() - listing.getLong("at")) < 10_000, listing.encode());
    }

    @Test
    void badOrUnknownCommandsAnswerAnErrorAndKeepTheConnection(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        client.send("{\"cmd\":\"dance\"}");
        assertTrue(client.nextOfType("error").getString("message").contains("unknown cmd"));
        client.send("{\"cmd\": broken");
        assertTrue(client.nextOfType("error").getString("message").contains("JSON"));
        client.send("{\"cmd\":\"feed\",\"perSecond\":1001}");
        assertTrue(client.nextOfType("error").getString("message").contains("perSecond"));
        client.send("plain text is echoed");
        assertEquals("plain text is echoed", client.nextFrame().text());
        assertEquals(1, state.framesReceived());
    }

    @Test
    void theTestCommandsAreUnknownUnlessBerthTestHooksIsSet(Vertx vertx) throws Exception {
        start(vertx, BASE.withTestHooks(false));
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        for (String command : new String[] {
            "{\"cmd\":\"probe\",\"host\":\"127.0.0.1\",\"port\":" + port + "}",
            "{\"cmd\":\"leak\",\"mib\":1}",
            "{\"cmd\":\"close\",\"code\":4000}"
        }) {
            client.send(command);
            String name = command.substring(8, command.indexOf('"', 8));
            assertEquals(
                    "unknown cmd \"" + name + "\"; known: feed, state",
                    client.nextOfType("error").getString("message"));
        }
        client.send("still open");
        assertEquals("still open", client.nextFrame().text());
    }

    @Test
    void stateCountsSurviveAReconnect(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient first = connect(vertx);
        assertEquals(1, first.nextOfType("hello").getInteger("connection"));
        first.send("abc");
        assertEquals("abc", first.nextFrame().text());
        first.send(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[100]), true));
        assertEquals(100, first.nextFrame().payload().length());
        first.close();

        TestClient second = connect(vertx);
        assertEquals(2, second.nextOfType("hello").getInteger("connection"));
        second.send("{\"cmd\":\"state\"}");
        JsonObject reply = second.nextOfType("state");
        assertEquals("s-test", reply.getString("session"));
        assertEquals("test-host", reply.getString("hostname"));
        assertEquals("9.9.9", reply.getString("version"));
        assertEquals(2L, reply.getLong("framesReceived"));
        assertEquals(103L, reply.getLong("bytesReceived"));
        assertEquals(2L, reply.getLong("connections"));
        assertEquals(state.startedAt(), reply.getLong("startedAt"));
        assertTrue(logText().contains("disconnect #1"), logText());
    }

    @Test
    void closeCommandClosesWithTheAskedCodeAndTheNextStateReportsIt(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient first = connect(vertx);
        first.nextOfType("hello");
        first.send("{\"cmd\":\"close\",\"code\":2000}");
        assertTrue(first.nextOfType("error").getString("message").contains("3000-4999"));
        first.send("{\"cmd\":\"close\",\"code\":4321,\"reason\":\"handler says bye\"}");
        assertEquals((short) 4321, first.awaitClosed());
        assertEquals("handler says bye", first.socket().closeReason());

        TestClient second = connect(vertx);
        second.nextOfType("hello");
        second.send("{\"cmd\":\"state\"}");
        JsonObject reply = second.nextOfType("state");
        assertEquals(4321, reply.getInteger("lastCloseCode"));
        assertEquals("handler says bye", reply.getString("lastCloseReason"));
    }

    @Test
    void idleGraceExpiryRunsTheExitAction(Vertx vertx) throws Exception {
        start(vertx, BASE.withIdleGraceMs(300));
        assertTrue(exited.await(5, TimeUnit.SECONDS), "exit action ran");
        assertTrue(logText().contains("idle: no websocket for 300 ms, exiting"), logText());
    }

    @Test
    void idleGraceIsCancelledWhileConnectedAndRestartsAfterTheLastDisconnect(Vertx vertx) throws Exception {
        // A grace the client surely connects within, also while other tests load the machine (400 ms
        // did not always do); the wait while connected outlasts it.
        start(vertx, BASE.withIdleGraceMs(1_500));
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        assertFalse(exited.await(2_000, TimeUnit.MILLISECONDS), "no exit while a websocket is open");
        client.close();
        assertTrue(exited.await(10, TimeUnit.SECONDS), "exit after the last disconnect");
    }

    @Test
    void closeAllSendsGoingAway1001(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        assertTrue(
                server.closeAll(1001, "session over", TestClient.WAIT_SECONDS * 1000), "every close handshake ended");
        assertEquals((short) 1001, client.awaitClosed());
        assertEquals("session over", client.socket().closeReason());
    }
}
