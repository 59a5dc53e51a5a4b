package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;

/**
 * The backend-to-client half of a pipe, on the pipe's loop: reads the backend's data frames, holds
 * them in the {@link Outbox}, writes them to whichever client is attached as fast as it reads, and
 * pauses the backend while the client cannot take them or too much is held (the bounds are the
 * outbox's). Past the whole bound with no client attached, the session hears of the overflow.
 */
final class BackendToClient {

    private final SessionPipe pipe;
    private final WebSocket backend;
    private final Outbox outbox;
    private final MessageCheck check;
    private final PipeTraffic traffic;
    private final SessionPipe.Listener listener;
    private volatile boolean paused; // volatile: read for the session's end line
    private boolean deliveredAny;
    /**
     * Set by the backend's first protocol error: its session is ending, and nothing it sends after
     * is forwarded. The frames already on their way keep coming until it closes, and the check's
     * state after a broken frame says nothing about them (a continuation could pass it with the
     * start of its message refused).
     */
    private boolean broken;

    /** @param pipe whose attached client the frames go to */
    BackendToClient(
            SessionPipe pipe,
            WebSocket backend,
            Outbox outbox,
            int maxMessageBytes,
            PipeTraffic traffic,
            SessionPipe.Listener listener) {
        this.pipe = pipe;
        this.backend = backend;
        this.outbox = outbox;
        this.check = new MessageCheck(maxMessageBytes);
        this.traffic = traffic;
        this.listener = listener;
    }

    void fromBackend(WebSocketFrame frame) {
        if (broken || !(frame.isText() || frame.isBinary() || frame.isContinuation())) {
            return; // control frames are hop by hop; close travels through the close handler
        }
        Failure failure = check.check(frame);
        if (failure != null) {
            broken = true;
            listener.backendMisbehaved(failure, failure.publicReason());
            return;
        }
        traffic.fromBackend(frame.binaryData().length());
        ClientLink client = pipe.attached();
        if (client != null
                && client.passesFramesThrough()
                && client.ready()
                && !outbox.hasPending()
                && !client.backedUp()
                && frame.isFinal()
                && !frame.isContinuation()) {
            client.send(frame); // the common case: straight through, nothing held
            delivered();
        } else {
            outbox.add(frame);
            pump();
        }
        updateFlow();
    }

    /** Writes what is held to the attached client, as much as it takes now. */
    void pump() {
        ClientLink current = pipe.attached();
        if (current == null || !current.ready()) {
            return;
        }
        while (outbox.hasPending() && !current.backedUp() && pipe.attached() == current) {
            current.write(outbox.take());
            delivered();
        }
    }

    private void delivered() {
        if (!deliveredAny) {
            deliveredAny = true;
            listener.firstFrameDelivered();
        }
    }

    /** Pauses the backend, or lets it go on, by what is held and what the attached client can take. */
    void updateFlow() {
        ClientLink client = pipe.attached();
        if (client == null && outbox.overBound()) {
            listener.bufferOverflow(outbox.bytes(), outbox.frames());
            return;
        }
        boolean shouldPause = outbox.overPauseBound()
                || client != null && (client.backedUp() || !client.ready() && outbox.hasPending());
        if (shouldPause != paused) {
            paused = shouldPause;
            if (shouldPause) {
                backend.pause();
            } else {
                backend.resume();
            }
        }
    }

    /** Makes what was written but is still held pending again, for the next client: see {@link Outbox#rewind}. */
    void rewind(boolean untilAcked) {
        outbox.rewind(untilAcked);
    }

    /**
     * Writes what the backend sent before the end to {@code client}, before its close frame, however
     * slowly it reads: this process will not hold it for a reconnect (bounded by the route's buffer).
     */
    void flushBeforeClose(ClientLink client) {
        while (client.ready() && outbox.hasPending()) {
            client.write(outbox.take());
        }
    }

    /** Whether the backend is paused now; from any thread. */
    boolean paused() {
        return paused;
    }
}
