package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;

/** Opens the gateway's own websocket to a session's backend: once per session, not per client. */
public final class BackendDialer {

    private static final long CONNECT_TIMEOUT_MS = 5000;

    // Held for the gateway's lifetime: an unreachable client is closed by a Cleaner.
    private final WebSocketClient client;

    public BackendDialer(WebSocketClient client) {
        this.client = client;
    }

    /**
     * The backend's websocket, dialled from {@code loop} (its handlers run there, and so does the
     * pipe that takes it) and paused until then; the future completes on the caller's context and
     * fails with {@link Failure#UNREACHABLE}.
     */
    public Future<WebSocket> dial(Backend backend, String path, Context loop) {
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setServer(backend.address())
                .setHost(backend.address().host())
                .setPort(backend.address().port())
                .setURI(path)
                .setConnectTimeout(CONNECT_TIMEOUT_MS);
        return EventLoops.call(loop, () -> client.connect(options).onSuccess(WebSocket::pause))
                .recover(error -> Future.failedFuture(new FailureException(
                        Failure.UNREACHABLE,
                        backend.description() + " refused the gateway's websocket: " + error.getMessage(),
                        error)));
    }
}
