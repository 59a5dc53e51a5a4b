package dev.berth.gateway.pipe;

import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.ContextInternal;
import dev.berth.gateway.failure.Failure;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A session's two halves of frame forwarding, re-wired as clients come and go. The backend half
 * (the gateway's own websocket to the session's backend) lives as long as the session; client
 * connections attach to it and detach from it. Backend frames go through the {@link Outbox}: to
 * the attached client as fast as it reads, held while none is attached.
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
 * listener is called back on the loop that opened the pipe. A client's events hop to the pipe's
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

  /** {@code listener}, each event handed to it on {@code context}. */
  private static Listener on(Context context, Listener listener) {
    ContextInternal target = (ContextInternal) context;
    return new Listener() {
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
    };
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private final ContextInternal loop;
  private final WebSocket backend;
  private final Outbox outbox;
  private final FrameMeter meter;
  private final Listener listener;
  private final String stream;
  private final int maxMessageBytes;
  private final int maxFrameBytes;
  private final MessageCheck backendCheck;
  private ClientLink client;
  private volatile boolean backendPaused; // volatile: read for the session's end line (traffic())
  /** The close handshake with the backend, once begun. */
  private Future<Void> backendClosing;
  private boolean clientMidMessage;
  private boolean deliveredAny;
  /** The start of a code point the client split across fragments, held until its end arrives. */
  private Buffer heldUtf8;
  private long clientSeq;
  /** When a data frame last passed either way; read by the session's idle clock on its own loop. */
  private volatile long lastDataNanos = System.nanoTime();
  /** Data bytes each way; written on the pipe's loop only, read by the admin API on the control loop. */
  private volatile long bytesToBackend;
  private volatile long bytesToClient;
  /** When a data frame last went to the backend, and last came from it (0: never), for the end line. */
  private volatile long lastToBackendNanos;
  private volatile long lastFromBackendNanos;

  private SessionPipe(Vertx vertx, Context loop, WebSocket backend, long maxBytes, int maxFrames, int maxFrameBytes,
      int maxMessageBytes, FrameMeter meter, Listener listener) {
    this.vertx = vertx;
    this.loop = (ContextInternal) loop;
    this.backend = backend;
    this.outbox = new Outbox(maxBytes, maxFrames);
    this.meter = meter;
    this.listener = listener;
    this.maxMessageBytes = maxMessageBytes;
    this.maxFrameBytes = maxFrameBytes;
    this.backendCheck = new MessageCheck(maxMessageBytes);
    byte[] id = new byte[6];
    RANDOM.nextBytes(id);
    this.stream = HexFormat.of().formatHex(id);
  }

  /**
   * Starts reading the backend; it may be paused until now, so its first frame is not lost.
   *
   * @param loop the loop {@code backend} was dialled from: the pipe lives there
   * @param listener called back on the caller's loop
   * @param alreadyRead a frame the backend sent before the pipe existed (a pooled handler's hello,
   *     read to settle its claim), passed on first; or null
   */
  public static SessionPipe open(Vertx vertx, Context loop, WebSocket backend, long maxBytes, int maxFrames,
      int maxFrameBytes, int maxMessageBytes, FrameMeter meter, Listener listener, WebSocketFrame alreadyRead) {
    SessionPipe pipe = new SessionPipe(vertx, loop, backend, maxBytes, maxFrames, maxFrameBytes, maxMessageBytes,
        meter, on(ContextInternal.current(), listener));
    pipe.onLoop(() -> pipe.start(alreadyRead));
    return pipe;
  }

  private void start(WebSocketFrame alreadyRead) {
    if (alreadyRead != null) {
      fromBackend(alreadyRead);
    }
    if (backend.isClosed()) {
      // It closed between its dial (or pool claim) and now: the handlers below could no longer be
      // set, and no close event is coming, so the session hears of it here; on a later turn of the
      // loop, as for a close event, so that whoever opened the pipe holds it by then.
      loop.runOnContext(v -> listener.backendClosed(backend.closeStatusCode(), backend.closeReason()));
      return;
    }
    FlushBatching.install(backend);
    ProtocolErrorAnswer errors = ProtocolErrorAnswer.install(backend, () -> { });
    if (errors != null) {
      errors.listen(listener::backendMisbehaved); // on the backend's loop, the pipe's own
    }
    backend.frameHandler(this::fromBackend);
    backend.drainHandler(drained -> backendDrained());
    backend.exceptionHandler(error -> { }); // a broken connection is reported by the close handler
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
    return direction == Direction.CLIENT_TO_BACKEND ? bytesToBackend : bytesToClient;
  }

  /**
   * What passed through the pipe, for the line that says how its session ended: a message that
   * went missing shows on which side it stopped (not forwarded to the backend, no answer read from
   * it, or the backend not being read). Read from any thread.
   */
  public String traffic() {
    long now = System.nanoTime();
    return bytesToBackend + " bytes to the backend (the last " + ago(lastToBackendNanos, now) + "), " + bytesToClient
        + " from it (the last " + ago(lastFromBackendNanos, now) + ")" + (backendPaused ? ", the backend paused" : "");
  }

  private static String ago(long nanos, long now) {
    return nanos == 0 ? "never" : (now - nanos) / 1_000_000 + "ms ago";
  }

  /** When a data frame last passed either way, by {@link System#nanoTime()}: the session is not idle. */
  public long lastDataNanos() {
    return lastDataNanos;
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
    outbox.rewind(resume);
    client = resume
        ? new ResumeClient(vertx, accepted, this, keepalive, maxMessageBytes)
        : new PlainClient(vertx, accepted, this, keepalive, maxMessageBytes);
    meter.clientAttached(client.onPipeLoop());
    client.start();
    pump();
    updateBackendFlow(); // a backend paused while no one read may go on now
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
    outbox.rewind(false);
    updateBackendFlow();
  }

  /** Closes the attached client and ends any message it left unfinished at the backend. */
  private void letClientGo(int code, String reason) {
    ClientLink leaving = client;
    client = null;
    leaving.close(code, reason);
    if (clientMidMessage) {
      // The backend must not see the next client's frames inside this one's message: end it here,
      // on a code point boundary (a held partial code point is dropped), so it stays valid.
      clientMidMessage = false;
      heldUtf8 = null;
      backend.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(), true));
    }
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
      // What the backend sent before the end goes out before the close frame, however slowly the
      // client reads: this process will not hold it for a reconnect (bounded by the route's buffer).
      while (client.ready() && outbox.hasPending()) {
        client.write(outbox.take());
      }
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

  /** The resume protocol's stream id: new for every gateway process's view of a session. */
  public String stream() {
    return stream;
  }

  long clientSeq() {
    return clientSeq;
  }

  // --- backend half

  private void fromBackend(WebSocketFrame frame) {
    if (!(frame.isText() || frame.isBinary() || frame.isContinuation())) {
      return; // control frames are hop by hop; close travels through the close handler
    }
    Failure broken = backendCheck.check(frame);
    if (broken != null) {
      listener.backendMisbehaved(broken, broken.publicReason());
      return;
    }
    int length = frame.binaryData().length();
    meter.forwarded(Direction.BACKEND_TO_CLIENT, length);
    bytesToClient += length; // one writer: this loop
    lastDataNanos = System.nanoTime();
    lastFromBackendNanos = lastDataNanos;
    if (client != null && client.ready() && !outbox.hasPending() && !client.backedUp() && frame.isFinal()
        && !frame.isContinuation() && client instanceof PlainClient) {
      client.send(frame); // the common case: straight through, nothing held
      delivered();
    } else {
      outbox.add(frame);
      pump();
    }
    updateBackendFlow();
  }

  private void pump() {
    ClientLink current = client;
    if (current == null || !current.ready()) {
      return;
    }
    while (outbox.hasPending() && !current.backedUp() && client == current) {
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

  private void updateBackendFlow() {
    if (client == null && outbox.overBound()) {
      listener.bufferOverflow(outbox.bytes(), outbox.frames());
      return;
    }
    boolean shouldPause = outbox.overPauseBound()
        || client != null && (client.backedUp() || !client.ready() && outbox.hasPending());
    if (shouldPause != backendPaused) {
      backendPaused = shouldPause;
      if (shouldPause) {
        backend.pause();
      } else {
        backend.resume();
      }
    }
  }

  private void backendDrained() {
    if (client != null) {
      client.resumeReading();
    }
  }

  // --- client half, called by the attached ClientLink

  /**
   * Forwards a client frame that passed its {@link MessageCheck}. A text fragment that ends inside
   * a code point keeps that code point's first bytes back until the next fragment, so a message
   * cut short by a leaving client still ends on a boundary.
   */
  void toBackend(ClientLink from, WebSocketFrame frame, int pendingUtf8) {
    if (from != client || backend.isClosed()) {
      return;
    }
    int length = frame.binaryData().length();
    meter.forwarded(Direction.CLIENT_TO_BACKEND, length);
    bytesToBackend += length; // one writer: this loop
    lastDataNanos = System.nanoTime();
    lastToBackendNanos = lastDataNanos;
    clientMidMessage = !frame.isFinal();
    if (heldUtf8 == null && pendingUtf8 == 0) {
      backend.writeFrame(frame);
    } else {
      writeHoldingUtf8(frame, pendingUtf8);
    }
    if (backend.writeQueueFull()) {
      from.pauseReading();
    }
  }

  /**
   * Writes the held start of a code point and this frame's bytes, less the start of a code point it
   * ends with, which is held in turn. What is written never exceeds the frame limit: a frame that
   * would (by the held bytes in front of it) goes out as two, in the same turn.
   */
  private void writeHoldingUtf8(WebSocketFrame frame, int pendingUtf8) {
    Buffer bytes = heldUtf8 == null ? frame.binaryData() : heldUtf8.copy().appendBuffer(frame.binaryData());
    int passing = bytes.length() - pendingUtf8; // pendingUtf8 counts into the held bytes too
    heldUtf8 = pendingUtf8 == 0 ? null : bytes.getBuffer(passing, bytes.length());
    if (frame.isText()) { // a message's first frame: nothing was held before it, and it fits
      backend.writeFrame(WebSocketFrame.textFrame(bytes.getString(0, passing, "UTF-8"), frame.isFinal()));
      return;
    }
    int first = Math.min(passing, maxFrameBytes);
    backend.writeFrame(WebSocketFrame.continuationFrame(bytes.getBuffer(0, first), frame.isFinal() && first == passing));
    if (first < passing) {
      backend.writeFrame(WebSocketFrame.continuationFrame(bytes.getBuffer(first, passing), frame.isFinal()));
    }
  }

  void fromResumeClient(ResumeClient from, long seq, WebSocketFrame message) {
    if (seq <= clientSeq) {
      return; // sent again after a reconnect, but the backend had it already
    }
    if (seq != clientSeq + 1) {
      clientFailed(from, Failure.RESUME_PROTOCOL, "message " + seq + " after " + clientSeq);
      return;
    }
    clientSeq = seq;
    toBackend(from, message, 0);
    from.received();
  }

  void resume(ResumeClient from, long lastReceived, String clientStream) {
    if (from != client) {
      return;
    }
    if (clientStream.equals(stream) && !outbox.acknowledge(lastReceived)) {
      clientFailed(from, Failure.RESUME_PROTOCOL, "resume " + lastReceived + ": past the last message written");
      return;
    }
    from.sendText("resume " + clientSeq + " " + stream);
    pump();
    updateBackendFlow();
  }

  void acknowledged(ResumeClient from, long seq) {
    if (from != client) {
      return;
    }
    if (!outbox.acknowledge(seq)) {
      clientFailed(from, Failure.RESUME_PROTOCOL, "ack " + seq + ": past the last message written");
      return;
    }
    updateBackendFlow();
  }

  void clientDrained(ClientLink link) {
    if (link == client) {
      pump();
      updateBackendFlow();
    }
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
