package dev.berth.gateway.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * One brand-new websocket client, as a first-time visitor: its own WebSocketClient, no cookie, handlers set
 * before connect so that no early frame is missed. Times the connect to the 101 and to the hello frame.
 */
final class BenchClient {

    private static final int MAX_FRAME = 16 << 20;

    private final Vertx vertx;
    private final WebSocketClient client; // held: an unreachable client is closed by a Cleaner
    private final ClientWebSocket socket;
    private final Promise<JsonObject> hello = Promise.promise();
    private volatile WebSocket connected;
    private volatile boolean closedByPeer;
    private volatile long startNanos;
    private volatile long upgradedNanos;
    private volatile long helloNanos;
    private volatile String token;
    private volatile boolean cookieSet;

    BenchClient(Vertx vertx) {
        this(vertx, null);
    }

    /** A client whose connection comes from {@code localAddress} (e.g. 127.0.0.7: a user of its own), or any. */
    BenchClient(Vertx vertx, String localAddress) {
        this.vertx = vertx;
        client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setMaxFrameSize(MAX_FRAME)
                .setMaxMessageSize(MAX_FRAME)
                .setLocalAddress(localAddress));
        socket = client.webSocket();
        socket.textMessageHandler(text -> {
            if (hello.future().isComplete()) {
                return; // listing updates: read and dropped
            }
            helloNanos = System.nanoTime();
            try {
                JsonObject json = new JsonObject(text);
                if ("hello".equals(json.getString("type"))) {
                    hello.tryComplete(json);
                } else {
                    hello.tryFail("first message is not a hello: " + abbreviate(text));
                }
            } catch (RuntimeException notJson) {
                hello.tryFail("first message is not JSON: " + abbreviate(text));
            }
        });
        socket.exceptionHandler(hello::tryFail);
        socket.closeHandler(v -> {
            closedByPeer = true;
            hello.tryFail("closed before the hello (" + socket.closeStatusCode() + " " + socket.closeReason() + ")");
        });
    }

    /** Connects and completes with the hello, or fails within {@code timeout}. */
    Future<JsonObject> open(int port, Duration timeout) {
        Promise<JsonObject> result = Promise.promise();
        long timer = vertx.setTimer(
                timeout.toMillis(),
                id -> result.tryFail(new TimeoutException("no hello within " + timeout.toMillis() + "ms")));
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setHost("127.0.0.1")
                .setPort(port)
                .setURI("/ws")
                .setConnectTimeout(5000);
        startNanos = System.nanoTime();
        socket.connect(options)
                .compose(ws -> {
                    upgradedNanos = System.nanoTime();
                    connected = ws;
                    token = ws.headers().get("Berth-Session");
                    cookieSet =
                            ws.headers().getAll("Set-Cookie").stream().anyMatch(c -> c.startsWith("berth_session="));
                    return hello.future();
                })
                .onComplete(outcome -> {
                    vertx.cancelTimer(timer);
                    if (outcome.succeeded()) {
                        result.tryComplete(outcome.result());
                    } else {
                        result.tryFail(outcome.cause());
                    }
                });
        return result.future();
    }

    /** Milliseconds from connect to the 101; the hello's time should it have been seen first. */
    double upgradeMillis() {
        return (Math.min(upgradedNanos, helloNanos) - startNanos) / 1e6;
    }

    double helloMillis() {
        return (helloNanos - startNanos) / 1e6;
    }

    /** Whether the handshake handed out the session both ways: Berth-Session header and berth_session cookie. */
    boolean handshakeCarriedSession() {
        return token != null && cookieSet;
    }

    boolean isOpen() {
        WebSocket ws = connected;
        return ws != null && !ws.isClosed() && !closedByPeer;
    }

    Future<Void> close() {
        WebSocket ws = connected;
        Future<Void> closing = ws != null && !ws.isClosed() ? ws.close() : Future.succeededFuture();
        return closing.transform(ignored -> client.close());
    }

    private static String abbreviate(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + "…";
    }
}
