package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.vertx.core.http.WebSocketFrame;

/**
 * Checks the data frames one side sends, before any is forwarded (RFC 6455 §5.4, §5.6, §8.1):
 * messages do not interleave, a message stays within the size limit across its fragments, and
 * a text message is well-formed UTF-8, checked incrementally so it fails at the first bad byte.
 * Frame-level rules (reserved bits, opcodes, masking, control frames, close payloads) are the
 * websocket decoder's.
 */
final class MessageCheck {

    private final long maxMessageBytes;
    private final Utf8Validator utf8 = new Utf8Validator();
    private boolean open;
    private boolean text;
    private long size;

    MessageCheck(long maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Null when the frame may pass, else the failure that names what is wrong with it. */
    Failure check(WebSocketFrame frame) {
        if (frame.isContinuation() != open) {
            return Failure.PROTOCOL_ERROR; // a continuation outside a message, or a new message inside one
        }
        if (!open) {
            open = true;
            text = frame.isText();
            size = 0;
            utf8.reset();
        }
        size += frame.binaryData().length();
        if (size > maxMessageBytes) {
            return Failure.MESSAGE_TOO_BIG;
        }
        if (text && !utf8.accept(frame.binaryData())) {
            return Failure.INVALID_UTF8;
        }
        if (frame.isFinal()) {
            open = false;
            if (text && !utf8.complete()) {
                return Failure.INVALID_UTF8;
            }
        }
        return null;
    }

    /** Whether a message was begun and not finished. */
    boolean midMessage() {
        return open;
    }

    /** Bytes at the end of the text checked so far that begin a code point not yet complete. */
    int pendingUtf8() {
        return text && open ? utf8.pending() : 0;
    }
}
