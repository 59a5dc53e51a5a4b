package dev.berth.handler;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A blocking websocket client for tests: every received data frame lands in a queue the test
 * thread polls. Blocking is fine here: the test thread is not an event loop.
 */
final class TestClient implements AutoCloseable {

    /** A received frame, copied out of Vert.x. */
    record Frame(WebSocketFrameType type, boolean fin, Buffer payload) {
        String text() {
            return payload.toString();
        }

        JsonObject json() {
            return new JsonObject(payload);
        }
    }

    static final long WAIT_SECONDS = 10;

    // Strong reference: an unreachable WebSocketClient is closed by a Cleaner.
    private final WebSocketClient client;
    private final ClientWebSocket socket;
    final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    /** Payloads of the pong frames received. */
    final BlockingQueue<Buffer> pongs = new LinkedBlockingQueue<>();

    private final java.util.concurrent.CompletableFuture<Short> closed = new java.util.concurrent.CompletableFuture<>();

    private TestClient(WebSocketClient client, ClientWebSocket socket) {
        this.client = client;
        this.socket = socket;
    }

    static TestClient connect(Vertx vertx, int port, String path) throws Exception {
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setMaxFrameSize(HandlerServer.MAX_WEBSOCKET_SIZE)
                .setMaxMessageSize(HandlerServer.MAX_WEBSOCKET_SIZE));
        // Handlers go on the ClientWebSocket before connect, so the hello cannot slip past them.
        ClientWebSocket socket = client.webSocket();
        TestClient testClient = new TestClient(client, socket);
        socket.frameHandler(frame -> {
            if (frame.isText() || frame.isBinary() || frame.isContinuation()) {
                testClient.frames.add(new Frame(
                        frame.type(), frame.isFinal(), frame.binaryData().copy()));
            } else if (frame.type() == WebSocketFrameType.PONG) {
                testClient.pongs.add(frame.binaryData().copy());
            }
        });
        socket.closeHandler(v -> testClient.closed.complete(socket.closeStatusCode()));
        await(socket.connect(
                new WebSocketConnectOptions().setHost("localhost").setPort(port).setURI(path)));
        return testClient;
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    ClientWebSocket socket() {
        return socket;
    }

    Frame nextFrame() throws InterruptedException {
        Frame frame = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (frame == null) {
            throw new AssertionError("no frame within " + WAIT_SECONDS + " s");
        }
        return frame;
    }

    /** The next JSON message whose "type" is {@code type}, skipping others (feed events). */
    JsonObject nextOfType(String type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            Frame frame = frames.poll(100, TimeUnit.MILLISECONDS);
            if (frame != null && frame.type() == WebSocketFrameType.TEXT && frame.fin()) {
                JsonObject json = frame.json();
                if (type.equals(json.getString("type"))) {
                    return json;
                }
            }
        }
        throw new AssertionError("no \"" + type + "\" message within " + WAIT_SECONDS + " s");
    }

    void send(String text) throws Exception {
        await(socket.writeTextMessage(text));
    }

    void send(WebSocketFrame frame) throws Exception {
        await(socket.writeFrame(frame));
    }

    /** Waits for the close and returns the status code the server sent. */
    Short awaitClosed() throws Exception {
        return closed.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        try {
            if (!socket.isClosed()) {
                await(socket.close());
            }
        } finally {
            await(client.close());
        }
    }
}
