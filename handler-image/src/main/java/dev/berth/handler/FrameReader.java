package dev.berth.handler;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a client's websocket frames off the TCP stream (RFC 6455 section 5.2) and checks each
 * against the RFC before anyone sees it: client frames must be masked, reserved bits, unknown
 * opcodes, misplaced or oversized control frames and continuations out of place are a
 * {@link Violation} with 1002, a frame or message over {@link HandlerServer#MAX_WEBSOCKET_SIZE}
 * one with 1009, text that is not UTF-8 one with 1007, a close frame with an invalid code or
 * reason one with 1002. What a frame means is not its business.
 */
final class FrameReader {

    static final int CONTINUATION = 0x0;
    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    private final InputStream in;
    private final Utf8Validator utf8 = new Utf8Validator();
    private final byte[] header = new byte[8];
    private boolean inMessage; // a non-final data frame was received, its final frame not yet
    private boolean textMessage; // the message being received is text (continuations carry no type)
    private long messageBytes; // payload received so far of the unfinished message
    private int opcode;
    private boolean fin;
    private byte[] payload;

    /** A frame the RFC forbids: the websocket must fail with {@link #code} and the message as reason. */
    static final class Violation extends Exception {
        final int code;

        Violation(int code, String reason) {
            super(reason, null, false, false);
            this.code = code;
        }
    }

    FrameReader(InputStream in) {
        this.in = in;
    }

    /** The last frame's opcode. */
    int opcode() {
        return opcode;
    }

    /** Whether the last frame is the final one of its message. */
    boolean fin() {
        return fin;
    }

    /** The last frame's payload, unmasked. */
    byte[] payload() {
        return payload;
    }

    /** The last frame's close code (a close frame's): 1005 for an empty body. */
    int closeCode() {
        return payload.length == 0 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
    }

    /** The last frame's close reason (a close frame's), "" for none. */
    String closeReason() {
        return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
    }

    /**
     * Reads the next frame; false if TCP ended before one began.
     *
     * @throws Violation the frame breaks the RFC: the stream cannot be trusted any more
     */
    boolean next() throws IOException, Violation {
        int b0 = in.read();
        if (b0 < 0) {
            return false; // TCP ended without a close frame
        }
        int b1 = readByte();
        fin = (b0 & 0x80) != 0;
        opcode = b0 & 0x0F;
        boolean control = (opcode & 0x08) != 0;
        long length = b1 & 0x7F;
        if ((b0 & 0x70) != 0) {
            throw new Violation(1002, "protocol error: reserved bits set");
        }
        if (opcode > BINARY && opcode != CLOSE && opcode != PING && opcode != PONG) {
            throw new Violation(1002, "protocol error: unknown opcode " + opcode);
        }
        if (control && (!fin || length > 125)) {
            throw new Violation(1002, "protocol error: control frame fragmented or over 125 bytes");
        }
        if ((b1 & 0x80) == 0) {
            throw new Violation(1002, "protocol error: client frame not masked");
        }
        if (length == 126) {
            readFully(header, 2);
            length = ((header[0] & 0xFF) << 8) | (header[1] & 0xFF);
        } else if (length == 127) {
            readFully(header, 8);
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = (length << 8) | (header[i] & 0xFF);
            }
            if (length < 0) {
                throw new Violation(1002, "protocol error: negative length");
            }
        }
        if (!control) {
            if (opcode == CONTINUATION && !inMessage) {
                throw new Violation(1002, "protocol error: continuation frame with no message to continue");
            }
            if (opcode != CONTINUATION && inMessage) {
                throw new Violation(1002, "protocol error: new message before the final frame of the last");
            }
            // Checked before the payload is read: a 1009 never waits for megabytes to arrive.
            if (length > HandlerServer.MAX_WEBSOCKET_SIZE || messageBytes + length > HandlerServer.MAX_WEBSOCKET_SIZE) {
                throw new Violation(1009, "message too big");
            }
        }
        readFully(header, 4);
        payload = new byte[(int) length];
        readFully(payload, payload.length);
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= header[i & 3];
        }
        if (opcode == CLOSE) {
            checkClose();
        } else if (!control) {
            checkData();
        }
        return true;
    }

    /** A text, binary or continuation frame: tracks its message, and checks text as UTF-8. */
    private void checkData() throws Violation {
        if (opcode != CONTINUATION) {
            textMessage = opcode == TEXT;
        }
        inMessage = !fin;
        messageBytes = fin ? 0 : messageBytes + payload.length;
        // Checked before anything is echoed, so the frame holding the first invalid byte (or the
        // final frame of a message cut off mid code point) never goes back out.
        if (textMessage && !(utf8.accept(payload) && (!fin || utf8.complete()))) {
            throw new Violation(1007, "text message is not valid UTF-8");
        }
    }

    /** CLOSE (section 5.5.1): no body, or a valid code (7.4) and a UTF-8 reason. */
    private void checkClose() throws Violation {
        if (payload.length == 1) {
            throw new Violation(1002, "protocol error: 1-byte close frame");
        }
        int code = closeCode();
        if (payload.length >= 2 && !validCloseCode(code)) {
            throw new Violation(1002, "protocol error: invalid close code " + code);
        }
        Utf8Validator reasonCheck = new Utf8Validator();
        if (payload.length > 2 && !(reasonCheck.accept(payload, 2, payload.length - 2) && reasonCheck.complete())) {
            throw new Violation(1002, "protocol error: close reason is not UTF-8");
        }
    }

    /** Close codes a peer may send (RFC 6455 section 7.4; 1012-1014 registered since; 5000+ undefined, let through). */
    static boolean validCloseCode(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || code >= 3000;
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("TCP ended inside a frame");
        }
        return b;
    }

    private void readFully(byte[] into, int length) throws IOException {
        int done = 0;
        while (done < length) {
            int n = in.read(into, done, length - done);
            if (n < 0) {
                throw new EOFException("TCP ended inside a frame");
            }
            done += n;
        }
    }
}
