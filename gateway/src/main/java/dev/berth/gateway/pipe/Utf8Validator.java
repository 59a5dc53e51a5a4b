package dev.berth.gateway.pipe;

import io.vertx.core.buffer.Buffer;

/**
 * Checks UTF-8 incrementally, chunk by chunk, as a text message's fragments arrive: it fails at the
 * first byte that cannot be part of well-formed UTF-8 (overlong forms, surrogates, code points past
 * U+10FFFF included) and knows whether the bytes so far end in the middle of a code point. Björn
 * Höhrmann's DFA, the one most websocket implementations use.
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

    private int state = ACCEPT;
    /** Bytes at the end of what was checked that begin a code point not yet complete. */
    private int pending;

    void reset() {
        state = ACCEPT;
        pending = 0;
    }

    /** Feeds {@code bytes}; false as soon as one cannot be part of well-formed UTF-8. */
    boolean accept(Buffer bytes) {
        for (int i = 0, n = bytes.length(); i < n; i++) {
            state = TRANSITIONS[state + TYPES[bytes.getByte(i) & 0xFF]];
            if (state == REJECT) {
                return false;
            }
            pending = state == ACCEPT ? 0 : pending + 1;
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
