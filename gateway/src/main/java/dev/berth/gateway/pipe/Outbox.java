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
 * (resume-protocol clients). What it holds is bounded by the caller through {@link #overBound}.
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

    Entry(long seq, WebSocketFrameType messageType, boolean first, boolean last, WebSocketFrame original, int bytes) {
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
  private WebSocketFrameType openMessageType;
  private long bytes;
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
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  /** The next frame to write; it moves to {@code sent}, or is dropped when nothing can need it again. */
  Entry take() {
    Entry entry = pending.poll();
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

  /** Drops every frame of messages up to {@code seq}: the client has them. */
  void acknowledge(long seq) {
    while (!sent.isEmpty() && sent.peek().seq <= seq) {
      bytes -= sent.poll().bytes;
    }
  }

  /** The highest message number begun so far. */
  long lastSeq() {
    return lastSeq;
  }

  /** The oldest message still held (written or not), or {@code lastSeq + 1} when nothing is. */
  long firstHeldSeq() {
    Entry oldest = !sent.isEmpty() ? sent.peek() : pending.peek();
    return oldest == null ? lastSeq + 1 : oldest.seq;
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

  boolean overBound() {
    return bytes > maxBytes || sent.size() + pending.size() > maxFrames;
  }

  long bytes() {
    return bytes;
  }

  int frames() {
    return sent.size() + pending.size();
  }
}
