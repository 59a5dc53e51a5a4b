package dev.berth.gateway.pipe;

import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.internal.http.WebSocketInternal;

/**
 * Lets the frames a pipe writes to one side during one pass of the event loop leave in one write
 * call. Vert.x flushes every frame written to a connection other than the one being read, which is
 * always the case in a pipe: with small messages a write syscall per frame was most of the
 * gateway's cost (docs/benchmarks/proxy.md). Netty's {@link FlushConsolidationHandler} holds the
 * flushes until the current read pass ends (or 256 have piled up), then flushes once.
 */
final class FlushBatching {

    private static final String NAME = "berth-flush-batching";
    private static final int FLUSH_AT_LEAST_EVERY = 256;

    private FlushBatching() {}

    static void install(WebSocketBase socket) {
        if (socket instanceof WebSocketInternal internal
                && internal.channelHandlerContext().pipeline().get(NAME) == null) {
            internal.channelHandlerContext()
                    .pipeline()
                    .addFirst(NAME, new FlushConsolidationHandler(FLUSH_AT_LEAST_EVERY, true));
        }
    }
}
