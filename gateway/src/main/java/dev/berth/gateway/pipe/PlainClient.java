package dev.berth.gateway.pipe;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketFrame;
import java.time.Duration;

/** A client that asked for no subprotocol: frames pass both ways exactly as they are. */
final class PlainClient extends ClientLink {

    PlainClient(Vertx vertx, AcceptedClient client, SessionPipe pipe, Duration keepalive, long maxMessageBytes) {
        super(vertx, client, pipe, keepalive, maxMessageBytes);
    }

    @Override
    boolean ready() {
        return open();
    }

    @Override
    boolean passesFramesThrough() {
        return true;
    }

    @Override
    void onData(WebSocketFrame frame, int pendingUtf8) {
        pipe.toBackend(this, frame, pendingUtf8);
    }

    @Override
    void write(Outbox.Entry entry) {
        if (entry.original != null) {
            WebSocketFrame frame = entry.original;
            entry.original = null;
            send(frame);
        } else {
            writeFromCopy(entry);
        }
    }
}
