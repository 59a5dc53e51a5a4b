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

  private final End client;
  private final End backend;
  private final Promise<PipeEnd> ended = Promise.promise();

  private FramePipe(WebSocketBase clientSocket, WebSocketBase backendSocket) {
    this.client = new End(clientSocket, PipeEnd.Side.CLIENT);
    this.backend = new End(backendSocket, PipeEnd.Side.BACKEND);
  }

  /** Starts piping; both sockets may be paused, and are resumed once their handlers are set. */
  public static FramePipe connect(WebSocketBase client, WebSocketBase backend, FrameMeter meter) {
    FramePipe pipe = new FramePipe(client, backend);
    pipe.relay(pipe.client, pipe.backend, Direction.CLIENT_TO_BACKEND, meter);
    pipe.relay(pipe.backend, pipe.client, Direction.BACKEND_TO_CLIENT, meter);
    client.closeHandler(v -> pipe.closed(pipe.client, pipe.backend, 1001, "client went away"));
    backend.closeHandler(v -> pipe.closed(pipe.backend, pipe.client, 1011, "session backend connection lost"));
    client.resume();
    backend.resume();
    return pipe;
  }

  private void relay(End from, End to, Direction direction, FrameMeter meter) {
    to.socket.drainHandler(drained -> from.socket.resume());
    from.socket.exceptionHandler(error -> LOG.log(Level.FINE, from.side + " socket error", error));
    from.socket.frameHandler(frame -> {
      // Close travels through the close handlers, with its code and reason; nothing follows it.
      // The socket may also be closed before its close handler has run: writing then would throw.
      if (frame.isClose() || from.closing || to.closing || to.socket.isClosed()) {
        return;
      }
      int payloadBytes = frame.binaryData().length(); // before the write: writing consumes the buffer
      to.socket.writeFrame(frame);
      meter.forwarded(direction, payloadBytes);
      if (to.socket.writeQueueFull()) {
        from.socket.pause();
      }
    });
  }

  /** Completes once, when the first side has closed and the close was passed to the other. */
  public Future<PipeEnd> ended() {
    return ended.future();
  }

  /** Ends the pipe from the gateway's side: the client gets {@code code}, the backend 1000. */
  public void close(int code, String reason) {
    client.close(code, reason);
    backend.close(1000, "client connection closed by the gateway");
  }

  /** Passes one side's close on to the other: its own code when it sent one, else the fallback. */
  private void closed(End end, End other, int codeIfDropped, String reasonIfDropped) {
    end.closing = true;
    Short code = end.socket.closeStatusCode();
    String reason = end.socket.closeReason();
    // Vert.x reports a connection that dropped without a close frame as no code or as 1006.
    boolean dropped = code == null || code == ABNORMAL;
    if (dropped) {
      other.close(codeIfDropped, reasonIfDropped);
    } else if (code == NO_STATUS || code == TLS_FAILURE) {
      other.close(1000, null);
    } else {
      other.close(code, reason);
    }
    ended.tryComplete(new PipeEnd(end.side, dropped ? null : code, reason));
  }

  /** One side of the pipe; {@code closing} turns true once a close was sent or received. */
  private static final class End {
    final WebSocketBase socket;
    final PipeEnd.Side side;
    boolean closing;

    End(WebSocketBase socket, PipeEnd.Side side) {
      this.socket = socket;
      this.side = side;
    }

    void close(int code, String reason) {
      if (!closing) {
        closing = true;
        socket.resume(); // a socket paused for backpressure must read again to see the close reply
        socket.close((short) code, reason);
      }
    }
  }
}
