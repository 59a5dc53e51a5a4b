package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.vertx.core.Context;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.ContextInternal;

/**
 * A pipe's listener, each event handed to it on the loop it was given: the pipe runs on a data
 * loop, its session on the control loop, and the session's state is touched on its own loop only.
 */
final class ListenerOnLoop implements SessionPipe.Listener {

    private final ContextInternal target;
    private final SessionPipe.Listener listener;

    ListenerOnLoop(Context target, SessionPipe.Listener listener) {
        this.target = (ContextInternal) target;
        this.listener = listener;
    }

    @Override
    public void backendClosed(Short code, String reason) {
        target.emit(v -> listener.backendClosed(code, reason));
    }

    @Override
    public void clientClosed(ServerWebSocket client, Short code, String reason) {
        target.emit(v -> listener.clientClosed(client, code, reason));
    }

    @Override
    public void clientMisbehaved(ServerWebSocket client, Failure failure, String detail) {
        target.emit(v -> listener.clientMisbehaved(client, failure, detail));
    }

    @Override
    public void backendMisbehaved(Failure failure, String detail) {
        target.emit(v -> listener.backendMisbehaved(failure, detail));
    }

    @Override
    public void bufferOverflow(long bytes, int frames) {
        target.emit(v -> listener.bufferOverflow(bytes, frames));
    }

    @Override
    public void firstFrameDelivered() {
        target.emit(v -> listener.firstFrameDelivered());
    }
}
