package dev.berth.gateway.pipe;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;

/**
 * The client-to-backend half of a pipe, on the pipe's loop: writes the attached client's data frames
 * to the backend, and pauses the client while the backend's writes back up. Whatever client sent
 * them, what the backend reads stays valid: a text fragment that ends inside a code point keeps
 * that code point's first bytes back until the next fragment, and a message a leaving client left
 * unfinished is ended on a code point boundary before the next client's frames.
 */
final class ClientToBackend {

    private final WebSocket backend;
    private final int maxFrameBytes;
    private final PipeTraffic traffic;
    private boolean midMessage;
    /** The start of a code point the client split across fragments, held until its end arrives. */
    private Buffer heldUtf8;

    ClientToBackend(WebSocket backend, int maxFrameBytes, PipeTraffic traffic) {
        this.backend = backend;
        this.maxFrameBytes = maxFrameBytes;
        this.traffic = traffic;
    }

    /**
     * Forwards a frame of {@code from}'s that passed its {@link MessageCheck}; {@code pendingUtf8} is
     * how many bytes at its end begin a code point it does not finish.
     */
    void forward(ClientLink from, WebSocketFrame frame, int pendingUtf8) {
        if (backend.isClosed()) {
            return;
        }
        traffic.toBackend(frame.binaryData().length());
        midMessage = !frame.isFinal();
        if (heldUtf8 == null && pendingUtf8 == 0) {
            backend.writeFrame(frame);
        } else {
            writeHoldingUtf8(frame, pendingUtf8);
        }
        if (backend.writeQueueFull()) {
            from.pauseReading();
        }
    }

    /**
     * Writes the held start of a code point and this frame's bytes, less the start of a code point it
     * ends with, which is held in turn. What is written never exceeds the frame limit: a frame that
     * would (by the held bytes in front of it) goes out as two, in the same turn.
     */
    private void writeHoldingUtf8(WebSocketFrame frame, int pendingUtf8) {
        Buffer bytes = heldUtf8 == null ? frame.binaryData() : heldUtf8.copy().appendBuffer(frame.binaryData());
        int passing = bytes.length() - pendingUtf8; // pendingUtf8 counts into the held bytes too
        heldUtf8 = pendingUtf8 == 0 ? null : bytes.getBuffer(passing, bytes.length());
        if (frame.isText()) { // a message's first frame: nothing was held before it, and it fits
            backend.writeFrame(WebSocketFrame.textFrame(bytes.getString(0, passing, "UTF-8"), frame.isFinal()));
            return;
        }
        int first = Math.min(passing, maxFrameBytes);
        boolean last = frame.isFinal() && first == passing;
        backend.writeFrame(WebSocketFrame.continuationFrame(bytes.getBuffer(0, first), last));
        if (first < passing) {
            backend.writeFrame(WebSocketFrame.continuationFrame(bytes.getBuffer(first, passing), frame.isFinal()));
        }
    }

    /**
     * Ends the message the leaving client left unfinished, if it did: the backend must not see the
     * next client's frames inside this one's message. It ends on a code point boundary (a held
     * partial code point is dropped), so it stays valid.
     */
    void endUnfinishedMessage() {
        if (midMessage) {
            midMessage = false;
            heldUtf8 = null;
            backend.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(), true));
        }
    }
}
