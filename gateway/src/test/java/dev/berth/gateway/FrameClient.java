package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real websocket client for tests, driven from the test thread: it records every frame the
 * gateway sends, with its type and fin flag, so a test can check exactly what came back.
 */
public final class FrameClient implements AutoCloseable {

    static final int MAX_FRAME = 16 << 20;
    static final long WAIT_SECONDS = 20;

    private final WebSocketClient client; // held: an unreachable client is closed by a Cleaner
    private final ClientWebSocket socket;
    private final BlockingQueue<WebSocketFrame> frames = new LinkedBlockingQueue<>();
    private final Promise<Void> closed = Promise.promise();
    private WebSocket connected;
    private JsonObject hello;

    private FrameClient(Vertx vertx) {
        client = vertx.createWebSocketClient(
                new WebSocketClientOptions().setMaxFrameSize(MAX_FRAME).setMaxMessageSize(MAX_FRAME));
        socket = client.webSocket();
        socket.frameHandler(frames::add);
        socket.closeHandler(v -> closed.tryComplete());
    }

    /**
     * Connects to the gateway's /ws, presenting {@code sessionToken} as cookie when not null. The
     * backend's hello is read later, by {@link #hello()}: a client that resumes a session gets none
     * (the backend's connection was never cut), only what the session held for it.
     */
    public static FrameClient connect(Vertx vertx, int port, String sessionToken) throws Exception {
        return connect(vertx, port, sessionToken, null);
    }

    /** The same, offering {@code subprotocol} (e.g. berth.resume.v1) when not null. */
    public static FrameClient connect(Vertx vertx, int port, String sessionToken, String subprotocol) throws Exception {
        return connect(vertx, port, "/ws", sessionToken, subprotocol);
    }

    /** The same on the route at {@code path}. */
    public static FrameClient connect(Vertx vertx, int port, String path, String sessionToken, String subprotocol)
            throws Exception {
        FrameClient frameClient = new FrameClient(vertx);
        WebSocketConnectOptions options =
                new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path);
        if (sessionToken != null) {
            options.addHeader("Cookie", "berth_session=" + sessionToken);
        }
        if (subprotocol != null) {
            options.addSubProtocol(subprotocol);
        }
        frameClient.connected = frameClient.socket.connect(options).await(WAIT_SECONDS, TimeUnit.SECONDS);
        return frameClient;
    }

    /** Tries to connect and returns the failure (e.g. an UpgradeRejectedException with its status). */
    public static Throwable refusal(Vertx vertx, int port) throws Exception {
        FrameClient frameClient = new FrameClient(vertx);
        Future<WebSocket> attempt = frameClient.socket.connect(
                new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"));
        try {
            attempt.await(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception expected) {
            frameClient.client.close();
            return expected;
        }
        frameClient.close();
        throw new AssertionError("the gateway accepted a websocket it should have refused");
    }

    /** The backend's hello: the first JSON message of type hello, waited for on the first call. */
    public JsonObject hello() throws InterruptedException {
        if (hello == null) {
            hello = nextMessage("hello");
        }
        return hello;
    }

    /** Leaves as a browser tab does (1001, going away): the session waits for a reconnect. */
    public void leave() throws Exception {
        connected.close((short) 1001, "going away").await(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** The next frame of any kind, or null when none came within {@code ms}. */
    public WebSocketFrame pollFrame(long ms) throws InterruptedException {
        return frames.poll(ms, TimeUnit.MILLISECONDS);
    }

    /** The session token from the 101 response's Berth-Session header. */
    public String sessionToken() {
        return connected.headers().get("Berth-Session");
    }

    public WebSocket socket() {
        return connected;
    }

    public void sendJson(JsonObject command) {
        connected.writeTextMessage(command.encode());
    }

    /** Asks the handler for its per-session state and returns the reply. */
    public JsonObject state() throws InterruptedException {
        sendJson(new JsonObject().put("cmd", "state"));
        return nextMessage("state");
    }

    /**
     * Has the session's handler try a TCP connection from inside its sandbox to each target
     * ({@code {host, port, what}}) and asserts none answers within 1 s; then, that the probe works,
     * by reaching the handler's own port.
     */
    public void assertSandboxReachesNone(String[][] targets) throws InterruptedException {
        for (String[] target : targets) {
            sendJson(new JsonObject()
                    .put("cmd", "probe")
                    .put("host", target[0])
                    .put("port", Integer.parseInt(target[1]))
                    .put("timeoutMs", 1000));
            JsonObject probe;
            try {
                probe = nextMessage("probe");
            } catch (AssertionError unanswered) {
                throw new AssertionError(
                        "the probe of " + target[2] + " at " + target[0] + ":" + target[1] + " went unanswered",
                        unanswered);
            }
            assertFalse(probe.getBoolean("reachable"), target[2] + " is reachable from a session: " + probe.encode());
        }
        sendJson(new JsonObject().put("cmd", "probe").put("host", "127.0.0.1").put("port", 8080));
        assertTrue(nextMessage("probe").getBoolean("reachable"), "the probe itself works: its own handler answers");
    }

    /** The next JSON text frame of the given type, skipping live-feed updates and control frames. */
    public JsonObject nextMessage(String type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        List<String> skipped = new ArrayList<>();
        while (System.nanoTime() - deadline < 0) { // the listing feed may go on: bounded by time, not by silence
            WebSocketFrame frame =
                    frames.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
            if (frame != null
                    && frame.type() == WebSocketFrameType.TEXT
                    && frame.isFinal()
                    && frame.textData().startsWith("{")) {
                JsonObject json = new JsonObject(frame.textData());
                if (type.equals(json.getString("type"))) {
                    return json;
                }
                skipped.add(json.getString("type"));
            }
        }
        throw new AssertionError("no " + type + " message within " + WAIT_SECONDS + "s; skipped " + skipped.size()
                + " other messages of types " + new java.util.TreeSet<>(skipped));
    }

    /** The next text, binary or continuation frame that is not a live-feed update. */
    public WebSocketFrame nextDataFrame() throws InterruptedException {
        while (true) {
            WebSocketFrame frame = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(frame, "no frame within " + WAIT_SECONDS + "s");
            boolean data = frame.isText() || frame.isBinary() || frame.isContinuation();
            boolean feedUpdate = frame.isText() && frame.textData().startsWith("{\"type\":\"listing\"");
            if (data && !feedUpdate) {
                return frame;
            }
        }
    }

    /** The seq of each of the next {@code count} listing updates (waiting for each). */
    public List<Long> listingSeqs(int count) throws InterruptedException {
        List<Long> seqs = new ArrayList<>();
        while (seqs.size() < count) {
            WebSocketFrame frame = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(
                    frame, "listing " + seqs.size() + " of " + count + " did not come within " + WAIT_SECONDS + "s");
            listingSeq(frame).ifPresent(seqs::add);
        }
        return seqs;
    }

    /** The seqs of the listing updates that came until this socket closed. */
    public List<Long> listingSeqsUntilClosed() throws Exception {
        closed.future().await(WAIT_SECONDS, TimeUnit.SECONDS);
        List<Long> seqs = new ArrayList<>();
        for (WebSocketFrame frame; (frame = frames.poll()) != null; ) {
            listingSeq(frame).ifPresent(seqs::add);
        }
        return seqs;
    }

    private static Optional<Long> listingSeq(WebSocketFrame frame) {
        if (frame.isText() && frame.isFinal() && frame.textData().startsWith("{\"type\":\"listing\"")) {
            return Optional.of(new JsonObject(frame.textData()).getLong("seq"));
        }
        return Optional.empty();
    }

    /** The next pong frame's payload. */
    public Buffer nextPong() throws InterruptedException {
        while (true) {
            WebSocketFrame frame = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(frame, "no pong within " + WAIT_SECONDS + "s");
            if (frame.type() == WebSocketFrameType.PONG) {
                return frame.binaryData();
            }
        }
    }

    /** Waits for the gateway to close this socket; returns its close code. */
    public short awaitClose() throws Exception {
        closed.future().await(WAIT_SECONDS, TimeUnit.SECONDS);
        return connected.closeStatusCode();
    }

    public String closeReason() {
        return connected.closeReason();
    }

    @Override
    public void close() throws Exception {
        try {
            if (connected != null && !connected.isClosed()) {
                connected.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            client.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }
}
