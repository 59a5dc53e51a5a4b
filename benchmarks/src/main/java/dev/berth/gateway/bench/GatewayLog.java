package dev.berth.gateway.bench;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the gateway's log says, read line by line while the gateway writes it: the listening line (port and
 * launcher), each launch session's timings or failure, and how many WARNING/SEVERE lines there were.
 */
final class GatewayLog {

    private static final Pattern LISTENING =
            Pattern.compile("Berth gateway listening on http://([^:/\\s]+):(\\d+)/(?: \\(launcher (\\w+))?");
    private static final Pattern RUNNING = Pattern.compile("launch session ([0-9a-f]+): .* running after (\\d+)ms");
    private static final Pattern READY = Pattern.compile("launch session ([0-9a-f]+) on \\S+: ready in (\\d+)ms");
    private static final Pattern FAILED = Pattern.compile("launch session ([0-9a-f]+) on \\S+: (\\S+) after (\\d+)ms");

    private final CompletableFuture<Integer> listeningPort = new CompletableFuture<>();
    private volatile String launcher = "?";
    private final Map<String, Long> runningMs = new ConcurrentHashMap<>();
    private final Map<String, Long> readyMs = new ConcurrentHashMap<>();
    private final Map<String, String> launchFailures = new ConcurrentHashMap<>();
    private final Set<String> sessionKeys = ConcurrentHashMap.newKeySet();
    private final AtomicInteger warnings = new AtomicInteger();

    void scan(String line) {
        Matcher m;
        if (!listeningPort.isDone() && (m = LISTENING.matcher(line)).find()) {
            if (m.group(3) != null) {
                launcher = m.group(3);
            }
            listeningPort.complete(Integer.parseInt(m.group(2)));
        } else if ((m = RUNNING.matcher(line)).find()) {
            sessionKeys.add(m.group(1));
            runningMs.put(m.group(1), Long.parseLong(m.group(2)));
        } else if ((m = READY.matcher(line)).find()) {
            sessionKeys.add(m.group(1));
            readyMs.put(m.group(1), Long.parseLong(m.group(2)));
        } else if ((m = FAILED.matcher(line)).find()) {
            sessionKeys.add(m.group(1));
            launchFailures.put(m.group(1), m.group(2));
        }
        if (line.contains(" WARNING ") || line.contains(" SEVERE ")) {
            warnings.incrementAndGet();
        }
    }

    /** Completes with the port from the listening line. */
    CompletableFuture<Integer> listeningPort() {
        return listeningPort;
    }

    /** Ends the wait for the listening line with {@code cause}, unless the line came already. */
    void noListeningLine(Exception cause) {
        listeningPort.completeExceptionally(cause);
    }

    /** The launcher the listening line names, "?" before it or when it names none. */
    String launcher() {
        return launcher;
    }

    /** Whether the log gave both the running and the ready time of {@code session}. */
    boolean timed(String session) {
        return runningMs.containsKey(session) && readyMs.containsKey(session);
    }

    /** Milliseconds from launch until the container ran; only for a {@link #timed} session. */
    long runningMs(String session) {
        return runningMs.get(session);
    }

    /** Milliseconds from launch until the handler's /ready answered; only for a {@link #timed} session. */
    long readyMs(String session) {
        return readyMs.get(session);
    }

    /** Failed launches: session key to the failure the log names. */
    Map<String, String> launchFailures() {
        return launchFailures;
    }

    /** Every session the log mentions a launch of. */
    Set<String> sessionKeys() {
        return sessionKeys;
    }

    int warnings() {
        return warnings.get();
    }
}
