package dev.berth.gateway.session;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.pipe.CloseCheck;
import dev.berth.gateway.pipe.SessionPipe;
import io.vertx.core.http.ServerWebSocket;

/**
 * What a session's pipe reports, told as what it means to the session: a client that left, one
 * that misbehaved, a backend that closed or broke the protocol. On the control loop, as the session.
 */
final class PipeEvents implements SessionPipe.Listener {

    /**
     * How long a dropped backend connection waits for the engine to report the exit. 1 s was too
     * short on a loaded 2-core machine: an OOM-killed container's connection dropped and its die
     * event came more than a second later, so its client heard "lost" instead of "stopped". Only a
     * backend that still runs after a drop waits this long for its 1011.
     */
    private static final long BACKEND_EXIT_WAIT_MS = 3000;

    private final Session session;

    PipeEvents(Session session) {
        this.session = session;
    }

    @Override
    public void clientClosed(ServerWebSocket client, Short code, String reason) {
        if (!session.currentClient().is(client)) {
            return; // a newer client took its place meanwhile
        }
        boolean clientEnds = code != null && CloseCheck.endsSession(code);
        if (clientEnds) {
            session.end(Failure.CLIENT_ENDED, code, reason, "the client closed with " + code + describe(reason));
        } else {
            session.detach(
                    null,
                    "client "
                            + (code == null
                                    ? "dropped"
                                    : code == CloseCheck.NO_STATUS
                                            ? "closed without a code"
                                            : "closed with " + code + describe(reason)));
        }
    }

    @Override
    public void clientMisbehaved(ServerWebSocket client, Failure failure, String detail) {
        if (session.currentClient().is(client)) {
            session.detach(failure, failure.tag() + ": " + detail);
        }
    }

    @Override
    public void backendMisbehaved(Failure failure, String detail) {
        Failure ending = Failure.BACKEND_PROTOCOL;
        session.pipe().close(ending.closeCode(), ending.publicReason(), failure.closeCode(), failure.publicReason());
        session.end(ending, "the backend sent " + failure.tag() + " (" + detail + "); told it " + failure.closeCode());
    }

    @Override
    public void backendClosed(Short code, String reason) {
        boolean dropped = code == null || code == 1006;
        if (dropped) {
            // A crash drops the connection a moment before the engine reports the exit, which says why
            // (killed, out of memory): give it that moment, so the end is told as what it was.
            session.vertx()
                    .setTimer(
                            BACKEND_EXIT_WAIT_MS,
                            id -> session.end(
                                    Failure.BACKEND_LOST,
                                    "the backend's websocket dropped without a close frame, and the backend still runs"));
        } else {
            int received = code & 0xFFFF;
            // Codes that must not go on the wire are not passed on: no status is a normal close, any
            // other is the backend's error.
            int passed = received == 1005 ? 1000 : CloseCheck.sendable(received) ? received : 1011;
            session.end(
                    Failure.BACKEND_ENDED, passed, reason, "the backend closed with " + received + describe(reason));
        }
    }

    @Override
    public void bufferOverflow(long bytes, int frames) {
        var route = session.route();
        session.end(
                Failure.BUFFER_OVERFLOW,
                "held " + frames + " frames, " + bytes + " bytes for an absent client, over "
                        + route.key("buffer") + " (" + route.buffer().maxFrames() + " frames, "
                        + route.buffer().maxBytes()
                        + " bytes), although its backend was paused at half of it: a message larger than the buffer; raise it, or"
                        + " listen.maxMessageSize down to it");
    }

    @Override
    public void firstFrameDelivered() {
        session.firstFrameDelivered();
    }

    /** A peer's close reason for the log: its text is the peer's, so control characters are masked. */
    private static String describe(String reason) {
        return reason == null || reason.isEmpty() ? "" : " (" + reason.replaceAll("[\\p{Cntrl}\\p{Cf}]", "?") + ")";
    }
}
