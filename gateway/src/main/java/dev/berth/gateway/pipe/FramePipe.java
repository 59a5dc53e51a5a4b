package dev.berth.gateway.pipe;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocketBase;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Forwards websocket frames between a client and its session's backend, frame by frame, so text,
 * binary, fragments (continuation frames), ping and pong pass unchanged. Each direction has flow
 * control: when the receiving side's write queue is full the sending side is paused until it
 * drains, so a slow reader slows its writer and memory stays bounded by the write queues and one
 * frame of at most the configured maximum size.
 *
 * <p>Close is forwarded with its code and reason. A side that drops without a close frame closes
 * the other with 1011 (backend lost) or 1001 (client went away). Vert.x answers pings itself as
 * well, so a client may see two pongs for one ping: the gateway's and the backend's, which RFC
 * 6455 allows.
 */
public final class FramePipe {

  /** Close codes that must not be sent on the wire (RFC 6455 §7.4.1). */
  private static final int NO_STATUS = 1005;
  private static final int ABNORMAL = 1006;
  private static final int TLS_FAILURE = 1015;
  private static final Logger LOG = Logger.getLogger(FramePipe.class.getName());

  private final WebSocketBase client;
  private final WebSocketBase backend;
  private final Promise<PipeEnd> ended = Promise.promise();
  private boolean clientClosing;
  private boolean backendClosing;

  private FramePipe(WebSocketBase client, WebSocketBase backend) {
    this.client = client;
    this.backend = backend;
  }

  /** Starts piping; both sockets may be paused, and are resumed once their handlers are set. */
  public static FramePipe connect(WebSocketBase client, WebSocketBase backend, FrameMeter meter) {
    FramePipe pipe = new FramePipe(client, backend);
    pipe.relay(client, backend, Direction.CLIENT_TO_BACKEND, meter);
    pipe.relay(backend, client, Direction.BACKEND_TO_CLIENT, meter);
    client.closeHandler(v -> pipe.clientClosed());
    backend.closeHandler(v -> pipe.backendClosed());
    client.exceptionHandler(error -> LOG.log(Level.FINE, "client socket error", error));
    backend.exceptionHandler(error -> LOG.log(Level.FINE, "backend socket error", error));
    client.resume();
    backend.resume();
    return pipe;
  }

  private void relay(WebSocketBase from, WebSocketBase to, Direction direction, FrameMeter meter) {
    to.drainHandler(drained -> from.resume());
    from.frameHandler(frame -> {
      if (frame.isClose() || clientClosing || backendClosing) {
        return; // close travels through the close handlers, with its code and reason; nothing follows it
      }
      int payloadBytes = frame.binaryData().length(); // before the write: writing consumes the buffer
      to.writeFrame(frame);
      meter.forwarded(direction, payloadBytes);
      if (to.writeQueueFull()) {
        from.pause();
      }
    });
  }

  /** Completes once, when the first side has closed and the close was passed to the other. */
  public Future<PipeEnd> ended() {
    return ended.future();
  }

  /** Ends the pipe from the gateway's side: the client gets {@code code}, the backend 1000. */
  public void close(int code, String reason) {
    closeClient(code, reason);
    closeBackend(1000, "client connection closed by the gateway");
  }

  private void clientClosed() {
    Short code = client.closeStatusCode();
    String reason = client.closeReason();
    clientClosing = true;
    if (droppedWithoutClose(code)) {
      closeBackend(1001, "client went away");
    } else {
      closeBackend(sendable(code) ? code : 1000, sendable(code) ? reason : null);
    }
    ended.tryComplete(new PipeEnd(PipeEnd.Side.CLIENT, droppedWithoutClose(code) ? null : code, reason));
  }

  private void backendClosed() {
    Short code = backend.closeStatusCode();
    String reason = backend.closeReason();
    backendClosing = true;
    if (droppedWithoutClose(code)) {
      closeClient(1011, "session backend connection lost");
    } else {
      closeClient(sendable(code) ? code : 1000, sendable(code) ? reason : null);
    }
    ended.tryComplete(new PipeEnd(PipeEnd.Side.BACKEND, droppedWithoutClose(code) ? null : code, reason));
  }

  private void closeClient(int code, String reason) {
    if (!clientClosing) {
      clientClosing = true;
      closeSocket(client, code, reason);
    }
  }

  private void closeBackend(int code, String reason) {
    if (!backendClosing) {
      backendClosing = true;
      closeSocket(backend, code, reason);
    }
  }

  /** A socket paused for backpressure must read again, or the peer's close reply is never seen. */
  private static void closeSocket(WebSocketBase socket, int code, String reason) {
    socket.resume();
    socket.close((short) code, reason);
  }

  /** Vert.x reports a connection that dropped without a close frame as no code or as 1006. */
  private static boolean droppedWithoutClose(Short code) {
    return code == null || code == ABNORMAL;
  }

  private static boolean sendable(int code) {
    return code != NO_STATUS && code != ABNORMAL && code != TLS_FAILURE;
  }
}
