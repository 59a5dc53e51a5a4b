package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.http.WebSocketInternal;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client connection attached to a session's pipe. It writes the outbox to the client as fast
 * as the client reads, forwards the client's data frames to the backend, and keeps the
 * connection alive with pings. Control frames are hop by hop: Vert.x answers the client's pings
 * itself, and none are forwarded. Subclasses decide how messages look on the wire. Runs on its
 * pipe's loop: the socket's events hop there when the client's connection lives on another loop,
 * and what it does to the socket (writes, the close, pause and resume) hops back, in one queue.
 */
abstract class ClientLink {

    /** Writes handed to the client's loop at once, at most, before the pipe waits for them. */
    private static final int MAX_HANDED_OVER = 256;

    final ServerWebSocket socket;
    final SessionPipe pipe;
    private final MessageCheck check;
    private final Vertx vertx;
    private final long keepaliveMs;
    private long keepaliveTimer = -1;
    private long lastHeardNanos = System.nanoTime();
    private boolean closing;
    /** Not read while the backend cannot take more: its silence then is the gateway's, not the client's. */
    private boolean readingPaused;
    /** The edge's answer to this client's protocol errors, installed at its handshake; null for other sockets. */
    private final ProtocolErrorAnswer answer;
    /** The loop the client's connection lives on; null when it is the pipe's own. */
    private final Executor socketLoop;
    /** Writes handed to {@link #socketLoop} and not done yet: past the bound, the client counts as backed up. */
    private final AtomicInteger handedOver = new AtomicInteger();

    private volatile boolean handOverFull;
    /** The socket's pause and resume, made once: while the backend backs up they may come as often as frames. */
    private final Runnable pauseSocket;

    private final Runnable resumeSocket;

    ClientLink(Vertx vertx, AcceptedClient client, SessionPipe pipe, Duration keepalive, long maxMessageBytes) {
        this.vertx = vertx;
        this.socket = client.socket();
        this.pipe = pipe;
        this.check = new MessageCheck(maxMessageBytes);
        this.keepaliveMs = keepalive.toMillis();
        this.answer = client.errors();
        this.socketLoop = onPipeLoop() || !(socket instanceof WebSocketInternal internal)
                ? null
                : internal.channelHandlerContext().executor();
        this.pauseSocket = socket::pause;
        this.resumeSocket = socket::resume;
    }

    /** Installs the handlers and starts reading; the pipe pumps the outbox once {@link #ready()}. */
    void start() {
        try {
            socket.closeHandler(onPipeLoop(v -> closed()));
        } catch (IllegalStateException closedAlready) {
            closed(); // it closed on its own loop while on its way here: its close handler will never run
            return;
        }
        try {
            socket.frameHandler(onPipeLoop(this::onFrame));
            socket.drainHandler(onPipeLoop(drained -> pipe.clientCanTakeMore(this)));
            socket.exceptionHandler(error -> {}); // a broken connection is reported by the close handler
        } catch (IllegalStateException closedMeanwhile) {
            return; // reported by the close handler
        }
        FlushBatching.install(socket);
        listenForProtocolErrors();
        keepaliveTimer = vertx.setPeriodic(keepaliveMs, id -> keepalive());
        onSocketLoopAlways(resumeSocket);
    }

    private void closed() {
        if (!closing) {
            closing = true;
            cancelKeepalive();
            int sent = answer == null ? 0 : answer.closeCodeReceived();
            pipe.clientClosed(
                    this, sent != 0 ? Short.valueOf((short) sent) : socket.closeStatusCode(), socket.closeReason());
        }
    }

    /**
     * Runs a write (a frame, a ping, the close) on the client's own loop, so that everything written
     * to the client leaves in the order it was written, close included: Vert.x orders writes from
     * other threads through a queue of its own, which a close frame written in the channel (by
     * {@link ProtocolErrorAnswer}) would overtake.
     */
    private void onSocketLoop(Runnable write) {
        if (socketLoop == null) {
            write.run();
            return;
        }
        if (handedOver.incrementAndGet() >= MAX_HANDED_OVER) {
            handOverFull = true;
        }
        socketLoop.execute(() -> {
            try {
                // A write queued before a protocol error is not sent after its close frame.
                if (answer == null || !answer.failed()) {
                    write.run();
                }
            } finally {
                if (handedOver.decrementAndGet() <= MAX_HANDED_OVER / 2 && handOverFull) {
                    handOverFull = false;
                    EventLoops.run(pipe.loop(), () -> pipe.clientCanTakeMore(this));
                }
            }
        });
    }

    /**
     * Runs {@code task} on the client's own loop, in the queue the writes take: a pause or resume of
     * the socket keeps its place among them, as seen from the pipe's loop. Unlike a write it runs
     * after a protocol error too (a socket closing must read to see the close reply).
     */
    private void onSocketLoopAlways(Runnable task) {
        if (socketLoop == null) {
            task.run();
        } else {
            socketLoop.execute(task);
        }
    }

    /** Writes a frame to the client. */
    void send(WebSocketFrame frame) {
        onSocketLoop(() -> socket.writeFrame(frame));
    }

    void sendText(String text) {
        onSocketLoop(() -> socket.writeTextMessage(text));
    }

    /** Whether the client's connection lives on its pipe's loop, so its events need no hop. */
    boolean onPipeLoop() {
        return socket instanceof WebSocketInternal internal
                && internal.channelHandlerContext().channel().eventLoop()
                        == ((ContextInternal) pipe.loop()).nettyEventLoop();
    }

    /** {@code handler}, run on the pipe's loop: directly when the socket lives there too, else by a hop. */
    private <T> Handler<T> onPipeLoop(Handler<T> handler) {
        return onPipeLoop() ? handler : EventLoops.on(pipe.loop(), handler);
    }

    /** Listens to the edge's answer to protocol errors; without one, a failing client is closed the ordinary way. */
    private void listenForProtocolErrors() {
        if (answer != null) {
            Handler<Runnable> onLoop = onPipeLoop(Runnable::run);
            answer.listen((failure, detail) -> onLoop.handle(() -> failed(failure, detail)));
        }
    }

    /** Fails the connection with {@code failure}'s close code; the session goes on without it. */
    private void fail(Failure failure, String detail) {
        if (answer == null) {
            pipe.clientFailed(this, failure, detail); // closed the ordinary way
        } else {
            answer.fail(failure, detail);
        }
    }

    private void failed(Failure failure, String detail) {
        if (closing) {
            return;
        }
        closing = true;
        cancelKeepalive();
        pipe.clientFailed(this, failure, detail);
    }

    private void onFrame(WebSocketFrame frame) {
        lastHeardNanos = System.nanoTime();
        if (closing || frame.isClose() || frame.isPing() || frame.type() == WebSocketFrameType.PONG) {
            return; // close travels through the close handler; pings are answered by Vert.x
        }
        Failure broken = check.check(frame);
        if (broken != null) {
            fail(broken, broken.publicReason());
            return;
        }
        onData(frame, check.pendingUtf8());
    }

    /** Stops reading the client while its backend's writes back up; the keepalive clock stops with it. */
    void pauseReading() {
        if (!readingPaused) { // paused already: each frame that came meanwhile asks again
            readingPaused = true;
            onSocketLoopAlways(pauseSocket);
        }
    }

    /** Reads the client again: what it sent meanwhile (pongs too) arrives now, so its clock starts afresh. */
    void resumeReading() {
        if (readingPaused) {
            readingPaused = false;
            lastHeardNanos = System.nanoTime();
        }
        onSocketLoopAlways(resumeSocket);
    }

    /**
     * A client that answered nothing, not even a pong, for two intervals is gone: say so and let go.
     * While the gateway itself does not read it, nothing it sent can be heard, so it is not judged.
     */
    private void keepalive() {
        if (!readingPaused && System.nanoTime() - lastHeardNanos > 2_000_000L * keepaliveMs) {
            pipe.clientFailed(
                    this,
                    Failure.KEEPALIVE_TIMEOUT,
                    "no frame and no pong from the client for two keepalive intervals");
        } else if (!closing) {
            onSocketLoop(() -> socket.writePing(Buffer.buffer("berth")));
        }
    }

    /** Whether outbox frames may be written to this client now. */
    abstract boolean ready();

    /**
     * Whether a backend frame may go to this client just as it came, when nothing is held before it:
     * the pipe's fast path. A client whose messages carry more than the backend sent cannot take it.
     */
    abstract boolean passesFramesThrough();

    /** A data frame that passed its check; {@code pendingUtf8}: see {@link ClientToBackend#forward}. */
    abstract void onData(WebSocketFrame frame, int pendingUtf8);

    /** Writes one outbox frame; {@code entry.original} is consumed if still there. */
    abstract void write(Outbox.Entry entry);

    /** Whether the client's writes have backed up; the backend is paused until they drain. */
    boolean backedUp() {
        try {
            return open() && (handOverFull || socket.writeQueueFull());
        } catch (IllegalStateException closedMeanwhile) {
            return false; // it closed on its own loop since open() was read; its close handler reports it
        }
    }

    /**
     * Whether frames can still be written: Vert.x marks a socket closed as soon as the client's close
     * frame arrives, before the close handler runs; frames meanwhile go to the outbox.
     */
    boolean open() {
        return !closing && !socket.isClosed();
    }

    /** Closes this connection from the gateway's side; the session goes on without it. */
    void close(int code, String reason) {
        if (!closing) {
            closing = true;
            cancelKeepalive();
            onSocketLoopAlways(resumeSocket); // a socket paused for backpressure must read again to see the close reply
            onSocketLoop(() -> socket.close((short) code, reason));
        }
    }

    boolean closing() {
        return closing;
    }

    private void cancelKeepalive() {
        if (keepaliveTimer >= 0) {
            vertx.cancelTimer(keepaliveTimer);
            keepaliveTimer = -1;
        }
    }

    /**
     * Writes an outbox frame whose original is already spent (written before a rewind): a first
     * frame becomes an empty frame of the message's type followed by its payload as a continuation,
     * since a text frame cannot be rebuilt from raw bytes without decoding them.
     */
    void writeFromCopy(Outbox.Entry entry) {
        if (entry.first) {
            send(
                    entry.messageType == WebSocketFrameType.TEXT
                            ? WebSocketFrame.textFrame("", false)
                            : WebSocketFrame.binaryFrame(Buffer.buffer(), false));
        }
        send(WebSocketFrame.continuationFrame(entry.payloadCopy(), entry.last));
    }
}
