package dev.berth.handler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** One probe of {@link TestHooks}: the first of its connect and its timer to finish answers. */
final class Probe implements Runnable {

    private final String host;
    private final int port;
    private final int timeoutMs;
    /** The connection's running probes, which this one counts in until its connect is done. */
    private final AtomicInteger running;

    private final FrameWriter writer;
    private final AtomicBoolean answered = new AtomicBoolean();
    volatile ScheduledFuture<?> timer;

    Probe(String host, int port, int timeoutMs, AtomicInteger running, FrameWriter writer) {
        this.host = host;
        this.port = port;
        this.timeoutMs = timeoutMs;
        this.running = running;
        this.writer = writer;
    }

    /**
     * On a probe thread. Its slot is given back before the answer, so a client that waits for the
     * answer may send the next probe at once; a probe the timer answered first (a slow name
     * lookup) keeps its slot until its thread is done.
     */
    @Override
    public void run() {
        String error;
        try {
            error = connect();
        } finally {
            running.decrementAndGet();
        }
        answer(error);
    }

    /** Null if the connect succeeded, else why not. */
    private String connect() {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(host, port), timeoutMs); // closed at once
            return null;
        } catch (SocketTimeoutException e) {
            return "timed out after " + timeoutMs + " ms";
        } catch (UnknownHostException e) {
            return "unknown host " + e.getMessage();
        } catch (IOException | IllegalArgumentException | SecurityException e) {
            return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        }
    }

    final class TimedOut implements Runnable {
        @Override
        public void run() {
            answer("timed out after " + timeoutMs + " ms");
        }
    }

    /**
     * Queues the answer without waiting (on a probe thread or the timer; bounded by
     * {@link TestHooks#MAX_PROBES}), held while an echoed message is open.
     *
     * @param error null if reachable
     */
    void answer(String error) {
        if (!answered.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> pending = timer;
        if (pending != null) {
            pending.cancel(false);
        }
        Json.Writer answer = new Json.Writer()
                .put("type", "probe")
                .put("host", host)
                .put("port", port)
                .put("reachable", error == null);
        writer.send((error == null ? answer : answer.put("error", error)).toString());
    }
}
