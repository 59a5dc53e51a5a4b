package dev.berth.gateway.pipe;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The backend's frames on their way to the client, in order, numbered by message. Frames not yet
 * written wait in {@code pending}; written frames stay in {@code sent} for as long as they may
 * have to be written again: until their message is complete (plain clients, so a handover never
 * starts the next client in the middle of a message) or until the client acknowledges them
 * (resume-protocol clients).
 *
 * <p>Two bounds, both from the route's {@code buffer}: the backend is paused once what is held is
 * over half of it ({@link #overPauseBound}), so frames already on their way when a client drops
 * or is handed over still fit; with no client attached, the session ends only past the whole of
 * it ({@link #overBound}). The frames of the message the backend is still sending do not count
 * towards the pause: they can only be written, and then acknowledged or released, once the
 * message's last frame arrives, so pausing the backend for them would stop the message forever.
 * That message is bounded by {@code listen.maxMessageSize}.
 */
final class Outbox {

    /** One frame of message {@code seq}; {@code original} until first written, {@code retained} if kept after. */
    static final class Entry {
        final long seq;
        final WebSocketFrameType messageType;
        final boolean first;
        final boolean last;
        final int bytes;
        WebSocketFrame original;
        Buffer retained;

        Entry(
                long seq,
                WebSocketFrameType messageType,
                boolean first,
                boolean last,
                WebSocketFrame original,
                int bytes) {
            this.seq = seq;
            this.messageType = messageType;
            this.first = first;
            this.last = last;
            this.original = original;
            this.bytes = bytes;
        }

        boolean singleFrame() {
            return first && last;
        }

        /** A copy of the payload to write: writing a frame hands its buffer to the network. */
        Buffer payloadCopy() {
            return retained.copy();
        }
    }

    private final long maxBytes;
    private final int maxFrames;
    private final ArrayDeque<Entry> sent = new ArrayDeque<>();
    private final ArrayDeque<Entry> pending = new ArrayDeque<>();
    private long lastSeq;
    /** The highest message whose last frame was written to some client: what a client can have acknowledged. */
    private long lastWrittenSeq;

    private WebSocketFrameType openMessageType;
    private long bytes;
    /** Bytes and frames of the message the backend has begun and not finished, all held. */
    private long openBytes;

    private int openFrames;
    private boolean keepUntilAcked;

    Outbox(long maxBytes, int maxFrames) {
        this.maxBytes = maxBytes;
        this.maxFrames = maxFrames;
    }

    /** Appends a data frame from the backend; a text or binary frame begins message {@code lastSeq + 1}. */
    void add(WebSocketFrame frame) {
        boolean first = !frame.isContinuation();
        if (first) {
            lastSeq++;
            openMessageType = frame.type();
        }
        int size = frame.binaryData().length();
        Entry entry = new Entry(lastSeq, openMessageType, first, frame.isFinal(), frame, size);
        if (keepUntilAcked || !entry.singleFrame()) {
            entry.retained = frame.binaryData().copy();
        }
        pending.add(entry);
        bytes += size;
        if (frame.isFinal()) {
            openBytes = 0; // the message is complete: its frames count from now on
            openFrames = 0;
        } else {
            openBytes += size;
            openFrames++;
        }
    }

    /** Whole messages waiting to be written again: written to a client before a {@link #rewind}, not acknowledged. */
    long messagesToWriteAgain() {
        long messages = 0;
        for (Entry entry : pending) {
            if (entry.last && entry.seq <= lastWrittenSeq) {
                messages++;
            }
        }
        return messages;
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** The next frame to write; it moves to {@code sent}, or is dropped when nothing can need it again. */
    Entry take() {
        Entry entry = pending.poll();
        if (entry.last) {
            lastWrittenSeq = Math.max(lastWrittenSeq, entry.seq);
        }
        if (keepUntilAcked || !entry.last) {
            if (entry.retained == null) {
                entry.retained = entry.original.binaryData().copy();
            }
            sent.add(entry);
        } else {
            bytes -= entry.bytes;
            releaseSent(); // the message is complete: its earlier frames are needed no more
        }
        return entry;
    }

    private void releaseSent() {
        for (Entry entry : sent) {
            bytes -= entry.bytes;
        }
        sent.clear();
    }

    /**
     * Drops every frame of messages up to {@code seq}, written or waiting to be written again after a
     * reconnect: the client has them. False, dropping nothing, when {@code seq} is past the last
     * message written whole, which no client can have.
     */
    boolean acknowledge(long seq) {
        if (seq > lastWrittenSeq) {
            return false;
        }
        dropUpTo(sent, seq);
        dropUpTo(pending, seq);
        return true;
    }

    private void dropUpTo(ArrayDeque<Entry> entries, long seq) {
        while (!entries.isEmpty() && entries.peek().seq <= seq) {
            bytes -= entries.poll().bytes;
        }
    }

    /**
     * Puts every written but still held frame back in front of the pending ones, for the next client,
     * and decides how long written frames are kept from now on.
     */
    void rewind(boolean untilAcked) {
        keepUntilAcked = untilAcked;
        Iterator<Entry> newestFirst = sent.descendingIterator();
        while (newestFirst.hasNext()) {
            pending.addFirst(newestFirst.next());
        }
        sent.clear();
        // A plain client starts at a message boundary: a message begun for the previous client is
        // written again from its first frame, which rewound entries always include.
        for (Entry entry : pending) {
            if (entry.retained == null && (untilAcked || !entry.singleFrame())) {
                entry.retained = entry.original.binaryData().copy();
            }
        }
    }

    /** Whether no client may be left holding this much: past the route's buffer, a detached session ends. */
    boolean overBound() {
        return bytes > maxBytes || frames() > maxFrames;
    }

    /** Whether over half the bound is held in whole messages: the backend waits until the client takes them. */
    boolean overPauseBound() {
        return bytes - openBytes > maxBytes / 2 || frames() - openFrames > maxFrames / 2;
    }

    long bytes() {
        return bytes;
    }

    int frames() {
        return sent.size() + pending.size();
    }
}
