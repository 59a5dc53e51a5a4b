package dev.berth.handler;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Commands that exist for the gateway's tests, not for the app: {@code close} (a backend that
 * closes its websocket), {@code leak} (an app that outgrows its memory limit) and {@code probe}
 * (what a session's sandbox can reach). Served only with BERTH_TEST_HOOKS=1 (the gateway's tests set
 * it on their routes): an app of your own can drop this class.
 */
final class TestHooks {

    /** Probes one connection may have running at once; a probe command over it is refused with an error. */
    static final int MAX_PROBES = 4;

    private static final int MAX_PROBE_MS = 5_000;
    private static final int MAX_PROBE_HOST = 255;

    private final WebSocketConnection connection;
    private final HandlerServer server;
    private final FrameWriter writer;
    /** Probes started and not yet ended; only the reader adds to it, a probe's thread takes off. */
    private final AtomicInteger probesRunning = new AtomicInteger();

    TestHooks(WebSocketConnection connection, HandlerServer server, FrameWriter writer) {
        this.connection = connection;
        this.server = server;
        this.writer = writer;
    }

    /** Runs the command if it is a test hook, on the connection's reader thread; false if it is not one. */
    boolean run(Object name, Map<String, Object> command) throws InterruptedException {
        if ("close".equals(name)) {
            closeCommand(command);
        } else if ("leak".equals(name)) {
            leakCommand(command);
        } else if ("probe".equals(name)) {
            probeCommand(command);
        } else {
            return false;
        }
        return true;
    }

    /** Closes this websocket with the code and reason asked for: lets a test drive a backend close. */
    private void closeCommand(Map<String, Object> command) throws InterruptedException {
        Object code = command.get("code");
        Object reason = Commands.orDefault(command, "reason", "");
        boolean valid = code instanceof Integer c && (c == 1000 || (c >= 3000 && c <= 4999));
        if (!valid || !(reason instanceof String text) || text.getBytes(StandardCharsets.UTF_8).length > 123) {
            writer.reply(Commands.error(
                    "close needs \"code\": 1000 or 3000-4999 and an optional \"reason\" of at most 123 bytes"));
            return;
        }
        connection.closeWith((Integer) code, (String) reason);
    }

    /**
     * Takes and touches native memory that is never given back, as a leaking app would: lets a test
     * see what the container's memory limit does to a session (the kernel kills the process).
     */
    private void leakCommand(Map<String, Object> command) throws InterruptedException {
        Object mib = command.get("mib");
        if (!(mib instanceof Integer size) || size < 1 || size > 65536) {
            writer.reply(Commands.error("leak needs \"mib\": an integer from 1 to 65536"));
            return;
        }
        writer.reply(new Json.Writer().put("type", "leak").put("mib", size).toString());
        NativeMemory.leak((long) size << 20);
    }

    /**
     * Tries a TCP connection from where the handler runs (inside the session's container) and
     * answers whether it was accepted: lets a test prove which addresses a session can reach. The
     * connect runs on the server's probe threads, so the echo goes on meanwhile. At most
     * {@link #MAX_PROBES} run at once (one more is refused with an error and starts nothing), and
     * one is started only while the writer's backlog is under its high-water mark: the answers,
     * which other threads queue without waiting, stay bounded too.
     */
    private void probeCommand(Map<String, Object> command) throws InterruptedException {
        Object host = command.get("host");
        Object port = command.get("port");
        Object timeout = Commands.orDefault(command, "timeoutMs", 1000);
        if (!(host instanceof String h)
                || !isProbeHost(h)
                || !(port instanceof Integer p)
                || p < 1
                || p > 65535
                || !(timeout instanceof Integer t)
                || t < 1
                || t > MAX_PROBE_MS) {
            writer.reply(Commands.error("probe needs \"host\": an IP address or host name of at most 255 characters,"
                    + " \"port\": 1-65535 and an optional \"timeoutMs\": 1-" + MAX_PROBE_MS + " (default 1000)"));
            return;
        }
        if (probesRunning.get() >= MAX_PROBES) { // only this thread adds: the count cannot rise meanwhile
            writer.reply(Commands.error("probe refused: " + MAX_PROBES + " probes are running on this connection,"
                    + " the most at once; send it again once one has answered"));
            return;
        }
        if (!writer.awaitRoom()) {
            return; // closing: no answer could be sent
        }
        Probe probe = new Probe(h, p, t, probesRunning, writer);
        probesRunning.incrementAndGet();
        // The connect timeout covers only the TCP handshake; this timer also bounds the name lookup.
        probe.timer = server.schedule(probe.new TimedOut(), t);
        if (!server.runProbe(probe)) {
            probesRunning.decrementAndGet();
            probe.answer("the handler is stopping");
        }
    }

    /** An IP literal (IPv6 without brackets) or a host name: [A-Za-z0-9._:-]{1,255}, without a regex. */
    private static boolean isProbeHost(String host) {
        return Commands.isName(host, MAX_PROBE_HOST, "._:-");
    }
}
