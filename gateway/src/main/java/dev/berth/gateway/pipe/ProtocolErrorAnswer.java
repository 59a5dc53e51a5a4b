package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.internal.http.WebSocketInternal;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * Answers a client's protocol errors in the channel, before Vert.x sees them: the decoder reports a
 * frame RFC 6455 forbids as an exception, after which Vert.x drops the connection, racing any close
 * frame; and Vert.x echoes a client's close frame before any handler sees it, whatever its code.
 * Here the close frame with the right code (1002, 1007, 1009) is written and flushed, then the
 * connection closed from this point of the pipeline, so Vert.x neither races it nor adds its own.
 *
 * <p>It also keeps the last word: once a close frame went out (its own, or Vert.x's echo of the
 * client's), nothing more is written to the client, not even a second close frame for an error
 * found after the first (RFC 6455 §5.5.1: no data after a close frame).
 *
 * <p>Installed by the edge as soon as a client's handshake is done, on the client's loop, so that
 * no frame gets past it while the client is on its way to its session's pipe (which may live on
 * another loop); the pipe's client link then listens to it. The pipe installs one on its backend's
 * websocket too: a backend that breaks the protocol is told why (1002, 1007, 1009) before its
 * connection is closed, as a client is.
 */
public final class ProtocolErrorAnswer extends ChannelDuplexHandler {

    private static final String NAME = "berth-protocol-errors";

    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile BiConsumer<Failure, String> listener = (failure, detail) -> {};
    /** Told, on the client's loop, of a close frame that ends the session, before Vert.x answers it. */
    private final Runnable endingClose;

    private volatile ChannelHandlerContext context;
    /** The code of the client's close frame as it came ({@link CloseCheck#NO_STATUS} for none); 0 before one came. */
    private volatile int closeCode;
    /** A close frame went out to the client; on the channel's loop only. */
    private boolean closeWritten;

    private ProtocolErrorAnswer(Runnable endingClose) {
        this.endingClose = endingClose;
    }

    /**
     * Puts an answer in front of Vert.x's handler of {@code socket} and returns it; not a Vert.x core
     * websocket: none (null).
     *
     * @param endingClose hears, on the client's loop and before Vert.x answers it, of a close frame
     *     that ends the session (the client may reconnect as soon as the answer reaches it), whether
     *     or not the client has reached its session's pipe yet
     */
    public static ProtocolErrorAnswer install(WebSocketBase socket, Runnable endingClose) {
        if (!(socket instanceof WebSocketInternal internal)) {
            return null;
        }
        ProtocolErrorAnswer answer = new ProtocolErrorAnswer(endingClose);
        ChannelHandlerContext vertx = internal.channelHandlerContext();
        try {
            vertx.pipeline().addBefore(vertx.name(), NAME, answer);
        } catch (java.util.NoSuchElementException closedMeanwhile) {
            return null; // its pipeline is gone: nothing more comes to answer
        }
        return answer;
    }

    /** Who hears of a failure, on the thread that found it; a failure before there is one goes unheard. */
    void listen(BiConsumer<Failure, String> failed) {
        listener = failed;
    }

    /**
     * The code of the close frame the client sent, as it came: Vert.x reports a close without a code
     * as 1000, which would read as the client ending its session. 0 when none came.
     */
    int closeCodeReceived() {
        return closeCode;
    }

    /** Whether the connection was failed: nothing may be written to it after its close frame. */
    boolean failed() {
        return failed.get();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException corrupt) {
            fail(Failure.ofProtocolCloseCode(corrupt.closeStatus().code()), corrupt.getMessage());
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
                fail(broken, "a close frame with " + broken.tag());
                return;
            }
            closeCode = CloseCheck.codeOf(close);
            if (CloseCheck.endsSession(closeCode)) {
                endingClose.run();
            }
        }
        ctx.fireChannelRead(message);
    }

    /**
     * Fails the connection (RFC 6455 §7.1.7): the close frame, then the TCP connection closed at once,
     * without waiting for the client's reply. Once; from any thread. The listener hears of it first,
     * so the failure reaches the pipe before the connection's close does, whichever loop it is on.
     */
    void fail(Failure failure, String detail) {
        if (failed.compareAndSet(false, true)) {
            listener.accept(failure, detail);
            ChannelHandlerContext ctx = context;
            ctx.executor().execute(() -> {
                if (closeWritten) {
                    ctx.close(); // the close handshake began already: end the connection, say nothing more
                    return;
                }
                closeWritten = true;
                ctx.writeAndFlush(new CloseWebSocketFrame(failure.closeCode(), failure.publicReason()))
                        .addListener(written -> ctx.close());
            });
        }
    }

    /** Writes from Vert.x (frames, its echo of a close): none after a close frame. */
    @Override
    public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
        if (closeWritten) {
            ReferenceCountUtil.release(message);
            promise.trySuccess(); // past the close frame: dropped, as the peer would drop it
            return;
        }
        if (message instanceof CloseWebSocketFrame) {
            closeWritten = true;
        }
        ctx.write(message, promise);
    }
}
