package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.vertx.core.buffer.Buffer;

/**
 * What RFC 6455 §5.5.1 and §7.4 allow in a close frame: no payload, or a code from the defined
 * ranges (1000-1003, 1007-1014, 3000-4999) and a UTF-8 reason. Netty checks most of this;
 * codes past 4999 and a reason cut inside a code point it lets through.
 */
public final class CloseCheck {

    private CloseCheck() {}

    /** Null when the close payload is valid, else what is wrong with it. */
    static Failure of(ByteBuf payload) {
        int length = payload.readableBytes();
        if (length == 0) {
            return null;
        }
        if (length == 1) {
            return Failure.PROTOCOL_ERROR;
        }
        int code = payload.getUnsignedShort(payload.readerIndex());
        if (!sendable(code)) {
            return Failure.PROTOCOL_ERROR;
        }
        Utf8Validator utf8 = new Utf8Validator();
        byte[] reason = new byte[length - 2];
        payload.getBytes(payload.readerIndex() + 2, reason);
        return utf8.accept(Buffer.buffer(reason)) && utf8.complete() ? null : Failure.INVALID_UTF8;
    }

    /** RFC 6455's "no status": what a close frame without a code stands for (never sent on the wire). */
    public static final int NO_STATUS = 1005;

    /** The code a close frame carries, or {@link #NO_STATUS} for one without a code. */
    static int codeOf(CloseWebSocketFrame close) {
        return close.statusCode() < 0 ? NO_STATUS : close.statusCode();
    }

    /**
     * Whether a client closing with {@code code} is done with its session: 1000, or an application's
     * 3000-4999, said on purpose. A close without a code (a library's default, a tab's {@code close()})
     * says nothing of the kind, so it only leaves, like 1001 or a dropped connection: ending a session
     * cannot be undone, leaving it costs a grace period.
     */
    public static boolean endsSession(int code) {
        return code == 1000 || code >= 3000 && code <= 4999;
    }

    /** Whether a close code may be sent on the wire. */
    public static boolean sendable(int code) {
        return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999;
    }
}
