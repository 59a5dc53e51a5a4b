package dev.berth.gateway.pipe;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
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
 * pauses the client. While no client is attached the backend is not paused (it may be a live
 * feed that cannot wait): what it sends is held up to the route's buffer bound, past which the
 * session ends. Used on the event loop only.
 */
public final class SessionPipe {

  /** What the session hears from its pipe. */
  public interface Listener {
    /** The backend's websocket closed: {@code code} null when it dropped without a close frame. */
    void backendClosed(Short code, String reason);

    /** The attached client closed by itself: {@code code} null when it dropped without a close frame. */
    void clientClosed(Short code, String reason);

    /** The attached client answers nothing, or broke the resume protocol; it should be let go. */
    void clientMisbehaved(ClientFault fault, String detail);

    /** More was held for an absent client than the route's buffer allows. */
    void bufferOverflow(long bytes, int frames);

    /** A data frame passed, either way: the session is not idle. */
    void dataFrame();
  }

  /** Why a client is let go by the pipe. */
  public enum ClientFault { UNRESPONSIVE, PROTOCOL }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private final WebSocket backend;
  private final Outbox outbox;
  private final FrameMeter meter;
  private final Listener listener;
  private final String stream;
  private final int maxMessageBytes;
  private ClientLink client;
  private boolean backendPaused;
  private boolean clientMidMessage;
  private long clientSeq;

  private SessionPipe(Vertx vertx, WebSocket backend, long maxBytes, int maxFrames, int maxMessageBytes,
      FrameMeter meter, Listener listener) {
    this.vertx = vertx;
    this.backend = backend;
    this.outbox = new Outbox(maxBytes, maxFrames);
    this.meter = meter;
    this.listener = listener;
    this.maxMessageBytes = maxMessageBytes;
    byte[] id = new byte[6];
    RANDOM.nextBytes(id);
    this.stream = HexFormat.of().formatHex(id);
  }

  /** Starts reading the backend; it may be paused until now, so its first frame is not lost. */
  public static SessionPipe open(Vertx vertx, WebSocket backend, long maxBytes, int maxFrames, int maxMessageBytes,
      FrameMeter meter, Listener listener) {
    SessionPipe pipe = new SessionPipe(vertx, backend, maxBytes, maxFrames, maxMessageBytes, meter, listener);
    backend.frameHandler(pipe::fromBackend);
    backend.drainHandler(drained -> pipe.backendDrained());
    backend.exceptionHandler(error -> { }); // a broken connection is reported by the close handler
    backend.closeHandler(v -> listener.backendClosed(backend.closeStatusCode(), backend.closeReason()));
    backend.resume();
    return pipe;
  }

  /**
   * Attaches a client connection (paused until now); the previous one must be detached first.
   * Held frames go to it first, in order: for a plain client from the first message it may not
   * have received whole, for a resume client from where it says it stopped.
   */
  public void attach(Vertx vertx, ServerWebSocket socket, boolean resume, Duration keepalive) {
    outbox.rewind(resume);
    client = resume
        ? new ResumeClient(vertx, socket, this, keepalive, maxMessageBytes)
        : new PlainClient(vertx, socket, this, keepalive);
    client.start();
    pump();
  }

  /** Lets the attached client go (closing it with {@code code} unless it already closed); the backend stays. */
  public void detach(int code, String reason) {
    if (client == null) {
      return;
    }
    ClientLink leaving = client;
    client = null;
    leaving.close(code, reason);
    if (clientMidMessage) {
      // The backend must not see the next client's frames inside this one's message: end it here.
      clientMidMessage = false;
      backend.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(), true));
    }
    outbox.rewind(false);
    updateBackendFlow();
  }

  public boolean attached() {
    return client != null;
  }

  /**
   * Ends both halves: the client (if any) gets {@code clientCode}, the backend {@code backendCode}.
   * Completes when the backend's close handshake is done, so the backend has read its code before
   * anything stops it.
   */
  public Future<Void> close(int clientCode, String clientReason, int backendCode, String backendReason) {
    if (client != null) {
      client.close(clientCode, clientReason);
      client = null;
    }
    if (backend.isClosed()) {
      return Future.succeededFuture();
    }
    backend.resume();
    return backend.close((short) backendCode, backendReason);
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
    meter.forwarded(Direction.BACKEND_TO_CLIENT, frame.binaryData().length());
    listener.dataFrame();
    if (client != null && client.ready() && !outbox.hasPending() && !client.backedUp() && frame.isFinal()
        && !frame.isContinuation() && client instanceof PlainClient) {
      client.socket.writeFrame(frame); // the common case: straight through, nothing held
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
    }
  }

  private void updateBackendFlow() {
    if (client == null && outbox.overBound()) {
      listener.bufferOverflow(outbox.bytes(), outbox.frames());
      return;
    }
    boolean shouldPause = client != null && (client.backedUp() || outbox.overBound() || !client.ready() && outbox.hasPending());
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
      client.socket.resume();
    }
  }

  // --- client half, called by the attached ClientLink

  void toBackend(ClientLink from, WebSocketFrame frame) {
    if (from != client || backend.isClosed()) {
      return;
    }
    meter.forwarded(Direction.CLIENT_TO_BACKEND, frame.binaryData().length());
    listener.dataFrame();
    clientMidMessage = !frame.isFinal();
    backend.writeFrame(frame);
    if (backend.writeQueueFull()) {
      from.socket.pause();
    }
  }

  void fromResumeClient(ResumeClient from, long seq, WebSocketFrame message) {
    if (seq <= clientSeq) {
      return; // sent again after a reconnect, but the backend had it already
    }
    if (seq != clientSeq + 1) {
      protocolError(from, "message " + seq + " after " + clientSeq);
      return;
    }
    clientSeq = seq;
    toBackend(from, message);
    from.received();
  }

  void resume(ResumeClient from, long lastReceived, String clientStream) {
    if (from != client) {
      return;
    }
    if (clientStream.equals(stream)) {
      outbox.acknowledge(lastReceived);
    }
    from.socket.writeTextMessage("resume " + clientSeq + " " + stream);
    pump();
    updateBackendFlow();
  }

  void acknowledged(long seq) {
    outbox.acknowledge(seq);
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
      listener.clientClosed(code, reason);
    }
  }

  void clientUnresponsive(ClientLink link) {
    if (link == client) {
      listener.clientMisbehaved(ClientFault.UNRESPONSIVE, "no frame and no pong from the client for two keepalive intervals");
    }
  }

  void protocolError(ClientLink link, String detail) {
    if (link == client) {
      listener.clientMisbehaved(ClientFault.PROTOCOL, detail);
    }
  }
}
