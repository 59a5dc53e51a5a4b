package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.internal.http.WebSocketInternal;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.time.Duration;

/**
 * One client connection attached to a session's pipe. It writes the outbox to the client as fast
 * as the client reads, forwards the client's data frames to the backend, and keeps the
 * connection alive with pings. Control frames are hop by hop: Vert.x answers the client's pings
 * itself, and none are forwarded. Subclasses decide how messages look on the wire.
 */
abstract class ClientLink {

  private static final String PROTOCOL_ERRORS = "berth-protocol-errors";

  final ServerWebSocket socket;
  final SessionPipe pipe;
  private final MessageCheck check;
  private final Vertx vertx;
  private final long keepaliveMs;
  private long keepaliveTimer = -1;
  private long lastHeardNanos = System.nanoTime();
  private boolean closing;

  ClientLink(Vertx vertx, ServerWebSocket socket, SessionPipe pipe, Duration keepalive, long maxMessageBytes) {
    this.vertx = vertx;
    this.socket = socket;
    this.pipe = pipe;
    this.check = new MessageCheck(maxMessageBytes);
    this.keepaliveMs = keepalive.toMillis();
  }

  /** Installs the handlers and starts reading; the pipe pumps the outbox once {@link #ready()}. */
  void start() {
    socket.frameHandler(this::onFrame);
    socket.drainHandler(drained -> pipe.clientDrained(this));
    socket.exceptionHandler(error -> { }); // a broken connection is reported by the close handler
    FlushBatching.install(socket);
    answerProtocolErrorsWithACloseFrame();
    socket.closeHandler(v -> {
      if (!closing) {
        closing = true;
        cancelKeepalive();
        pipe.clientClosed(this, socket.closeStatusCode(), socket.closeReason());
      }
    });
    keepaliveTimer = vertx.setPeriodic(keepaliveMs, id -> keepalive());
    socket.resume();
  }

  /**
   * Protocol errors are answered in the channel, before Vert.x sees them: the decoder reports a frame
   * RFC 6455 forbids as an exception, after which Vert.x drops the connection, racing any close
   * frame; and Vert.x echoes a client's close frame before any handler sees it, whatever its code.
   * Here the close frame with the right code (1002, 1007, 1009) is written and flushed, then the
   * connection closed from this point of the pipeline, so Vert.x neither races it nor adds its own.
   */
  private void answerProtocolErrorsWithACloseFrame() {
    if (!(socket instanceof WebSocketInternal internal)) {
      return; // not a Vert.x core websocket: its decoder errors drop the connection instead
    }
    ChannelHandlerContext vertx = internal.channelHandlerContext();
    vertx.pipeline().addBefore(vertx.name(), PROTOCOL_ERRORS, new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException corrupt) {
          fail(ctx, Failure.ofProtocolCloseCode(corrupt.closeStatus().code()), corrupt.getMessage());
        } else {
          ctx.fireExceptionCaught(cause);
        }
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (message instanceof CloseWebSocketFrame close) {
          Failure broken = CloseCheck.of(close.content());
          if (broken != null) {
            close.release();
            fail(ctx, broken, "a close frame with " + broken.tag());
            return;
          }
        }
        ctx.fireChannelRead(message);
      }
    });
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): the close frame, then the TCP connection closed at once,
   * without waiting for the client's reply.
   */
  private void fail(Failure failure, String detail) {
    ChannelHandlerContext ctx = socket instanceof WebSocketInternal internal
        ? internal.channelHandlerContext().pipeline().context(PROTOCOL_ERRORS) : null;
    if (ctx == null) {
      pipe.clientFailed(this, failure, detail); // closed the ordinary way
    } else {
      fail(ctx, failure, detail);
    }
  }

  private void fail(ChannelHandlerContext ctx, Failure failure, String detail) {
    if (closing) {
      return;
    }
    closing = true;
    cancelKeepalive();
    ctx.writeAndFlush(new CloseWebSocketFrame(failure.closeCode(), failure.publicReason()))
        .addListener(written -> ctx.close());
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

  /** A client that answered nothing, not even a pong, for two intervals is gone: say so and let go. */
  private void keepalive() {
    if (System.nanoTime() - lastHeardNanos > 2_000_000L * keepaliveMs) {
      pipe.clientFailed(this, Failure.KEEPALIVE_TIMEOUT, "no frame and no pong from the client for two keepalive intervals");
    } else if (!closing) {
      socket.writePing(Buffer.buffer("berth"));
    }
  }

  /** Whether outbox frames may be written to this client now. */
  abstract boolean ready();

  /** A data frame that passed its check; {@code pendingUtf8}: see {@link SessionPipe#toBackend}. */
  abstract void onData(WebSocketFrame frame, int pendingUtf8);

  /** Writes one outbox frame; {@code entry.original} is consumed if still there. */
  abstract void write(Outbox.Entry entry);

  /** Whether the client's writes have backed up; the backend is paused until they drain. */
  boolean backedUp() {
    return open() && socket.writeQueueFull();
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
      socket.resume(); // a socket paused for backpressure must read again to see the close reply
      socket.close((short) code, reason);
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
      socket.writeFrame(entry.messageType == WebSocketFrameType.TEXT
          ? WebSocketFrame.textFrame("", false)
          : WebSocketFrame.binaryFrame(Buffer.buffer(), false));
    }
    socket.writeFrame(WebSocketFrame.continuationFrame(entry.payloadCopy(), entry.last));
  }
}
