package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.time.Duration;

/**
 * A session's frame forwarding, re-wired as clients come and go. The backend's websocket (the
 * gateway's own, to the session's backend) lives as long as the session; client connections
 * attach to it and detach from it. The pipe holds which client is attached; its two halves carry
 * the frames: {@link BackendToClient} through the {@link Outbox}, to the attached client as fast as
 * it reads and held while none is attached, and {@link ClientToBackend}.
 *
 * <p>Flow control both ways: a client whose writes back up, or a resume-protocol client that
 * acknowledges too little, pauses the backend until it catches up; a backend whose writes back up
 * pauses the client. What is held for the client, attached or not, pauses the backend at half the
 * route's buffer, as a slow client would: a client that drops or is handed over in mid-stream
 * finds its session waiting, not ended. Only past the whole buffer, which frames already on their
 * way or a message larger than the buffer can reach while nobody reads, does the session end.
 *
 * <p>Threads: the pipe lives on one data loop, the one its backend websocket was dialled from,
 * so the frames of a session's backend and of a client on the same loop never change threads.
 * Its public methods may be called from the session's control loop and run on the pipe's; the
 * listener is called back on the loop it is opened with. A client's events hop to the pipe's
 * loop when it arrived on another one.
 */
public final class SessionPipe {

    /**
     * What the session hears from its pipe. Events about a client name its socket: by the time the
     * session hears one, a newer client may have taken its place.
     */
    public interface Listener {
        /** The backend's websocket closed: {@code code} null when it dropped without a close frame. */
        void backendClosed(Short code, String reason);

        /** The attached client closed by itself: {@code code} null when it dropped without a close frame. */
        void clientClosed(ServerWebSocket client, Short code, String reason);

        /** The attached client answers nothing, or broke the protocol, and was closed with the failure's code. */
        void clientMisbehaved(ServerWebSocket client, Failure failure, String detail);

        /** The backend broke the protocol; nothing of the offending frame reached the client. */
        void backendMisbehaved(Failure failure, String detail);

        /** More was held for an absent client than the route's buffer allows. */
        void bufferOverflow(long bytes, int frames);

        /** The first backend frame was written to a client (once per pipe). */
        void firstFrameDelivered();
    }

    private final Vertx vertx;
    private final Context loop;
    private final WebSocket backend;
    private final FrameMeter meter;
    private final Listener listener;
    private final int maxMessageBytes;
    private final PipeTraffic traffic;
    private final BackendToClient backendToClient;
    private final ClientToBackend clientToBackend;
    private final ResumeLedger resumeLedger;
    private ClientLink client;
    /** The close handshake with the backend, once begun. */
    private Future<Void> backendClosing;

    private SessionPipe(
            Vertx vertx,
            Context loop,
            WebSocket backend,
            long maxBytes,
            int maxFrames,
            int maxFrameBytes,
            int maxMessageBytes,
            FrameMeter meter,
            Listener listener) {
        this.vertx = vertx;
        this.loop = loop;
        this.backend = backend;
        this.meter = meter;
        this.listener = listener;
        this.maxMessageBytes = maxMessageBytes;
        this.traffic = new PipeTraffic(meter);
        Outbox outbox = new Outbox(maxBytes, maxFrames);
        this.backendToClient = new BackendToClient(this, backend, outbox, maxMessageBytes, traffic, listener);
        this.clientToBackend = new ClientToBackend(backend, maxFrameBytes, traffic);
        this.resumeLedger = new ResumeLedger(outbox);
    }

    /**
     * Starts reading the backend; it may be paused until now, so its first frame is not lost.
     *
     * @param loop the loop {@code backend} was dialled from: the pipe lives there
     * @param listenerLoop the loop {@code listener} is called back on: the session's
     * @param alreadyRead a frame the backend sent before the pipe existed (a pooled handler's hello,
     *     read to settle its claim), passed on first; or null
     */
    public static SessionPipe open(
            Vertx vertx,
            Context loop,
            WebSocket backend,
            long maxBytes,
            int maxFrames,
            int maxFrameBytes,
            int maxMessageBytes,
            FrameMeter meter,
            Context listenerLoop,
            Listener listener,
            WebSocketFrame alreadyRead) {
        SessionPipe pipe = new SessionPipe(
                vertx,
                loop,
                backend,
                maxBytes,
                maxFrames,
                maxFrameBytes,
                maxMessageBytes,
                meter,
                new ListenerOnLoop(listenerLoop, listener));
        pipe.onLoop(() -> pipe.start(alreadyRead));
        return pipe;
    }

    private void start(WebSocketFrame alreadyRead) {
        if (alreadyRead != null) {
            backendToClient.fromBackend(alreadyRead);
        }
        if (backend.isClosed()) {
            // It closed between its dial (or pool claim) and now: the handlers below could no longer be
            // set, and no close event is coming, so the session hears of it here; on a later turn of the
            // loop, as for a close event, so that whoever opened the pipe holds it by then.
            loop.runOnContext(v -> listener.backendClosed(backend.closeStatusCode(), backend.closeReason()));
            return;
        }
        FlushBatching.install(backend);
        ProtocolErrorAnswer errors = ProtocolErrorAnswer.install(backend, () -> {});
        if (errors != null) {
            errors.listen(listener::backendMisbehaved); // on the backend's loop, the pipe's own
        }
        backend.frameHandler(backendToClient::fromBackend);
        backend.drainHandler(drained -> backendDrained());
        backend.exceptionHandler(error -> {}); // a broken connection is reported by the close handler
        backend.closeHandler(v -> listener.backendClosed(backend.closeStatusCode(), backend.closeReason()));
        backend.resume();
    }

    private void onLoop(Runnable task) {
        EventLoops.run(loop, task);
    }

    Context loop() {
        return loop;
    }

    /** Data bytes forwarded {@code direction} so far. */
    public long bytes(Direction direction) {
        return traffic.bytes(direction);
    }

    /**
     * What passed through the pipe, for the line that says how its session ended: a message that
     * went missing shows on which side it stopped (not forwarded to the backend, no answer read from
     * it, or the backend not being read). Read from any thread.
     */
    public String traffic() {
        return traffic.describe() + (backendToClient.paused() ? ", the backend paused" : "");
    }

    /** When a data frame last passed either way, by {@link System#nanoTime()}: the session is not idle. */
    public long lastDataNanos() {
        return traffic.lastDataNanos();
    }

    /**
     * Attaches a client connection (paused until now); one still attached is closed with {@link
     * Failure#REPLACED} first. Held frames go to it first, in order: for a plain client from the first
     * message it may not have received whole, for a resume client from where it says it stopped.
     */
    public void attach(AcceptedClient accepted, Duration keepalive) {
        onLoop(() -> attachHere(accepted, keepalive));
    }

    private void attachHere(AcceptedClient accepted, Duration keepalive) {
        boolean resume = accepted.resume();
        if (client != null) {
            letClientGo(Failure.REPLACED.closeCode(), Failure.REPLACED.publicReason()); // handed over: no gap to bound
        }
        backendToClient.rewind(resume);
        client = resume
                ? new ResumeClient(vertx, accepted, this, resumeLedger, keepalive, maxMessageBytes)
                : new PlainClient(vertx, accepted, this, keepalive, maxMessageBytes);
        meter.clientAttached(client.onPipeLoop());
        client.start();
        backendToClient.pump();
        backendToClient.updateFlow(); // a backend paused while no one read may go on now
    }

    /**
     * Lets {@code socket} go if it is still the attached client (closing it with {@code code} unless
     * it already closed); the backend stays.
     */
    public void detach(ServerWebSocket socket, int code, String reason) {
        onLoop(() -> {
            if (client != null && client.socket == socket) {
                detachHere(code, reason);
            }
        });
    }

    private void detachHere(int code, String reason) {
        letClientGo(code, reason);
        backendToClient.rewind(false);
        backendToClient.updateFlow();
    }

    /** Closes the attached client and ends any message it left unfinished at the backend. */
    private void letClientGo(int code, String reason) {
        ClientLink leaving = client;
        client = null;
        leaving.close(code, reason);
        clientToBackend.endUnfinishedMessage();
    }

    /**
     * Ends both halves: the client (if any) gets {@code clientCode}, the backend {@code backendCode}.
     * Completes, on the caller's loop, when the backend's close handshake is done, so the backend has
     * read its code before anything stops it.
     */
    public Future<Void> close(int clientCode, String clientReason, int backendCode, String backendReason) {
        return EventLoops.call(loop, () -> closeHere(clientCode, clientReason, backendCode, backendReason));
    }

    private Future<Void> closeHere(int clientCode, String clientReason, int backendCode, String backendReason) {
        if (client != null) {
            backendToClient.flushBeforeClose(client);
            client.close(clientCode, clientReason);
            client = null;
        }
        if (backendClosing == null) { // the first close says why; a later one waits for the same handshake
            backendClosing = backend.isClosed() ? Future.succeededFuture() : closeBackend(backendCode, backendReason);
        }
        return backendClosing;
    }

    private Future<Void> closeBackend(int code, String reason) {
        backend.resume();
        return backend.close((short) code, reason);
    }

    private void backendDrained() {
        if (client != null) {
            client.resumeReading();
        }
    }

    // --- what the attached ClientLink tells its pipe, on the pipe's loop

    /** The client attached now, or null. */
    ClientLink attached() {
        return client;
    }

    /** Forwards a frame of {@code from}'s that passed its {@link MessageCheck}: see {@link ClientToBackend#forward}. */
    void toBackend(ClientLink from, WebSocketFrame frame, int pendingUtf8) {
        if (from == client) {
            clientToBackend.forward(from, frame, pendingUtf8);
        }
    }

    /** A resume client said where it stopped: {@code replayedMessages} go to it again (counted only). */
    void resumed(long replayedMessages) {
        meter.resumed(replayedMessages);
    }

    /** The client can take more: its writes drained, or it said where to resume. */
    void clientCanTakeMore(ClientLink link) {
        if (link == client) {
            backendToClient.pump();
            backendToClient.updateFlow();
        }
    }

    /** The attached client acknowledged what was held for it: the backend may go on. */
    void clientAcknowledged() {
        backendToClient.updateFlow();
    }

    void clientClosed(ClientLink link, Short code, String reason) {
        if (link == client) {
            listener.clientClosed(link.socket, code, reason);
        }
    }

    /** The attached client broke a rule: it is closed with the failure's code, its session goes on. */
    void clientFailed(ClientLink link, Failure failure, String detail) {
        if (link == client) {
            listener.clientMisbehaved(link.socket, failure, detail);
        }
    }
}
