package dev.berth.gateway.pipe;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;
import io.vertx.core.internal.buffer.BufferInternal;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Checks UTF-8 incrementally, chunk by chunk, as a text message's fragments arrive: it fails at the
 * first byte that cannot be part of well-formed UTF-8 (overlong forms, surrogates, code points past
 * U+10FFFF included) and knows whether the bytes so far end in the middle of a code point. Björn
 * Höhrmann's DFA, the one most websocket implementations use.
 *
 * <p>It is on the data path of every text frame, both ways, so it works on plain arrays and skips
 * ASCII eight bytes at a time: text is mostly ASCII, and per-byte reads through a buffer's bounds
 * and reference-count checks made it over half of the gateway's CPU with 16 KiB text messages
 * (docs/benchmarks/proxy.md).
 */
final class Utf8Validator {

    static final int ACCEPT = 0;
    static final int REJECT = 12;

    private static final byte[] TYPES = new byte[256];
    private static final byte[] TRANSITIONS = {
        0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
        12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
        12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12
    };

    static {
        for (int b = 0x80; b <= 0x8F; b++) {
            TYPES[b] = 1;
        }
        for (int b = 0x90; b <= 0x9F; b++) {
            TYPES[b] = 9;
        }
        for (int b = 0xA0; b <= 0xBF; b++) {
            TYPES[b] = 7;
        }
        TYPES[0xC0] = 8;
        TYPES[0xC1] = 8;
        for (int b = 0xC2; b <= 0xDF; b++) {
            TYPES[b] = 2;
        }
        TYPES[0xE0] = 10;
        for (int b = 0xE1; b <= 0xEF; b++) {
            TYPES[b] = 3;
        }
        TYPES[0xED] = 4;
        TYPES[0xF0] = 11;
        TYPES[0xF1] = 6;
        TYPES[0xF2] = 6;
        TYPES[0xF3] = 6;
        TYPES[0xF4] = 5;
        for (int b = 0xF5; b <= 0xFF; b++) {
            TYPES[b] = 8;
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;
    /** Where a direct buffer's bytes are copied to be checked, one per event loop thread. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[16 << 10]);

    private int state = ACCEPT;
    /** Bytes at the end of what was checked that begin a code point not yet complete. */
    private int pending;

    void reset() {
        state = ACCEPT;
        pending = 0;
    }

    /** Feeds {@code bytes}; false as soon as one cannot be part of well-formed UTF-8. */
    boolean accept(Buffer bytes) {
        ByteBuf buf = bytes instanceof BufferImpl impl ? impl.byteBuf() : ((BufferInternal) bytes).getByteBuf();
        int from = buf.readerIndex();
        int length = buf.readableBytes();
        if (buf.hasArray()) {
            return accept(buf.array(), buf.arrayOffset() + from, length);
        }
        byte[] scratch = SCRATCH.get();
        for (int done = 0; done < length; ) {
            int chunk = Math.min(scratch.length, length - done);
            buf.getBytes(from + done, scratch, 0, chunk);
            if (!accept(scratch, 0, chunk)) {
                return false;
            }
            done += chunk;
        }
        return true;
    }

    private boolean accept(byte[] bytes, int from, int length) {
        int end = from + length;
        int s = state;
        int boundary = -1; // the last index where a code point began, or -1: none in these bytes
        int i = from;
        while (i < end) {
            if (s == ACCEPT) {
                while (i + 8 <= end && ((long) LONGS.get(bytes, i) & HIGH_BITS) == 0) {
                    i += 8; // eight ASCII bytes
                }
                boundary = i;
                if (i == end) {
                    break;
                }
            }
            s = TRANSITIONS[s + TYPES[bytes[i] & 0xFF]];
            if (s == REJECT) {
                state = REJECT;
                return false;
            }
            i++;
        }
        state = s;
        if (s == ACCEPT) {
            pending = 0;
        } else {
            pending = boundary < 0 ? pending + length : end - boundary;
        }
        return true;
    }

    /** Whether everything fed so far ends on a code point boundary. */
    boolean complete() {
        return state == ACCEPT;
    }

    /** How many of the last bytes fed begin a code point that is not complete yet. */
    int pending() {
        return pending;
    }
}
