package dev.berth.handler;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * Everything one websocket sends goes through here, in order: a queue of encoded frames that a
 * thread of its own writes to the socket. Producers never touch the socket, so
 *
 * <ul>
 *   <li>whatever the connection's reader queues gets backpressure: {@link #echo}, {@link #reply}
 *       and {@link #pong} wait while more than {@link #HIGH_WATER} bytes are queued, so a peer
 *       that stops reading stops the handler reading too, whether it sends data, commands or
 *       pings, and the backlog stays bounded;</li>
 *   <li>other threads never wait here ({@link #send}, {@link #close}): the feed only queues while
 *       the backlog is small ({@link #feedMayWrite}), otherwise it skips; a probe's answer is one
 *       message, and a connection runs at most {@link TestHooks#MAX_PROBES} probes, each started
 *       by the reader only once the backlog is under the high-water mark ({@link #awaitRoom});</li>
 *   <li>the handler's own messages never start inside an echoed fragmented message (RFC 6455
 *       section 5.4): the echo marks the message open, and replies are held until its final frame
 *       (pongs may go in between: control frames are allowed there).</li>
 * </ul>
 *
 * <p>After a close frame is queued nothing more is; once it is written the writer shuts down the
 * socket's output (a FIN after the close frame), and the connection's reader closes the socket
 * when the peer has closed its side.
 */
final class FrameWriter implements Runnable {

    /** Queued bytes above which the connection's reader waits for the writer (echo, replies, pongs). */
    static final long HIGH_WATER = 1 << 20;
    /** Queued bytes above which feed ticks are skipped (the peer does not keep up). */
    static final long FEED_BACKLOG = 64 << 10;

    private final Socket socket;
    private final OutputStream out;
    /** Encoded frames: a header and, for large payloads, the payload as a chunk of its own (no copy). */
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    /** The handler's own messages that came up while an echoed message was unfinished. */
    private final ArrayDeque<String> held = new ArrayDeque<>();

    private long queuedBytes;
    private long peakQueuedBytes; // the most ever queued at once (for tests)
    private boolean midMessage; // a non-final data frame was echoed, its final frame not yet
    private boolean closeQueued;
    private boolean finished; // the close frame is written, or the socket failed: the thread ends

    FrameWriter(Socket socket, OutputStream out) {
        this.socket = socket;
        this.out = out;
    }

    /**
     * Queues the echo of a received data frame as it came (type, fin bit, raw bytes), waiting while
     * the backlog is large. False if the connection is closing and nothing was queued.
     */
    synchronized boolean echo(int opcode, boolean fin, byte[] payload) throws InterruptedException {
        if (!awaitRoom()) {
            return false;
        }
        enqueue((fin ? 0x80 : 0) | opcode, payload, payload.length);
        midMessage = !fin;
        if (!midMessage) {
            while (!held.isEmpty()) {
                text(held.poll());
            }
        }
        return true;
    }

    /**
     * Waits while more than {@link #HIGH_WATER} bytes are queued; only the connection's reader
     * calls it (before anything it queues, and before it starts a probe). False if the connection
     * is closing: nothing more is sent.
     */
    synchronized boolean awaitRoom() throws InterruptedException {
        while (queuedBytes > HIGH_WATER && !closeQueued && !finished) {
            wait();
        }
        return !closeQueued && !finished;
    }

    /**
     * Queues a reply to what the connection's reader read (a command's answer, the hello), waiting
     * while the backlog is large; held while an echoed message is open.
     */
    synchronized void reply(String message) throws InterruptedException {
        if (awaitRoom()) {
            send(message);
        }
    }

    /**
     * Queues one of the handler's own text messages from any thread without waiting, or holds it
     * while an echoed message is open. Only for what is bounded otherwise (a probe's answer, a feed
     * event the feed checked {@link #feedMayWrite} for): the reader uses {@link #reply}.
     */
    synchronized void send(String message) {
        if (closeQueued || finished) {
            return;
        }
        if (midMessage) {
            held.add(message);
        } else {
            text(message);
        }
    }

    /**
     * True if a feed event may be queued now: no echoed message is open and the peer keeps up. The
     * feed checks and sends while holding this writer's lock, so the answer still holds when it sends.
     */
    synchronized boolean feedMayWrite() {
        return !midMessage && !closeQueued && !finished && queuedBytes <= FEED_BACKLOG;
    }

    /**
     * Answers a ping, waiting while the backlog is large (a peer pinging without reading gets
     * backpressure too); control frames may go between the fragments of a message.
     */
    synchronized void pong(byte[] payload) throws InterruptedException {
        if (awaitRoom()) {
            enqueue(0x80 | FrameReader.PONG, payload, payload.length);
        }
    }

    /**
     * Queues a close frame with {@code code} (negative: an empty body) and {@code reason}, after
     * which nothing more is sent. False if a close frame was queued already.
     */
    synchronized boolean close(int code, String reason) {
        if (closeQueued || finished) {
            return false;
        }
        byte[] why = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        byte[] body;
        if (code < 0) {
            body = new byte[0];
        } else {
            body = new byte[2 + why.length];
            body[0] = (byte) (code >> 8);
            body[1] = (byte) code;
            System.arraycopy(why, 0, body, 2, why.length);
        }
        held.clear();
        enqueue(0x80 | FrameReader.CLOSE, body, body.length);
        closeQueued = true;
        return true;
    }

    /** The most bytes ever queued at once, frames being written included: what the backlog cost at worst. */
    synchronized long peakQueuedBytes() {
        return peakQueuedBytes;
    }

    synchronized boolean closeQueued() {
        return closeQueued;
    }

    /** Stops the writer without a close frame (the connection is gone); queued frames are dropped. */
    synchronized void abort() {
        finished = true;
        queue.clear();
        held.clear();
        queuedBytes = 0;
        notifyAll();
    }

    private void text(String message) {
        byte[] payload = message.getBytes(StandardCharsets.UTF_8);
        enqueue(0x80 | FrameReader.TEXT, payload, payload.length);
    }

    /** Encodes an unmasked server frame (RFC 6455 section 5.2) and queues it. */
    private void enqueue(int firstByte, byte[] payload, int length) {
        int headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
        boolean inline = length <= 4096; // small frames: one chunk; large ones: no copy of the payload
        byte[] header = new byte[headerLength + (inline ? length : 0)];
        header[0] = (byte) firstByte;
        if (length < 126) {
            header[1] = (byte) length;
        } else if (length < 65536) {
            header[1] = 126;
            header[2] = (byte) (length >> 8);
            header[3] = (byte) length;
        } else {
            header[1] = 127;
            for (int i = 0; i < 8; i++) {
                header[2 + i] = (byte) ((long) length >> (56 - 8 * i));
            }
        }
        queue.add(header);
        if (inline) {
            System.arraycopy(payload, 0, header, headerLength, length);
        } else {
            queue.add(payload);
        }
        queuedBytes += headerLength + length;
        if (queuedBytes > peakQueuedBytes) {
            peakQueuedBytes = queuedBytes;
        }
        notifyAll();
    }

    /** The writer thread: writes what is queued, in batches, until the close frame is out. */
    @Override
    public void run() {
        ArrayDeque<byte[]> batch = new ArrayDeque<>();
        try {
            while (true) {
                boolean last;
                synchronized (this) {
                    while (queue.isEmpty() && !finished) {
                        wait();
                    }
                    if (finished) {
                        return;
                    }
                    while (!queue.isEmpty()) {
                        batch.add(queue.poll());
                    }
                    last = closeQueued; // the close frame is the last one ever queued
                }
                long written = 0;
                for (byte[] chunk = batch.poll(); chunk != null; chunk = batch.poll()) {
                    out.write(chunk);
                    written += chunk.length;
                }
                out.flush();
                synchronized (this) {
                    queuedBytes -= written;
                    notifyAll(); // the reader waiting for room
                    if (last && queue.isEmpty()) {
                        finished = true;
                    }
                }
                if (last) {
                    socket.shutdownOutput(); // FIN after the close frame; the reader closes the socket
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // The peer is gone (or the socket was closed under us): nothing more can be sent.
            abort();
            closeQuietly(socket);
        }
    }

    static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
