package dev.berth.gateway.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one gateway's log file says about session starts, read once the gateway has written it: each new session's
 * "started in" line (its phases), each launch's running and ready times, the handlers' own "started in N ms" (the
 * process launcher's handlers write to the gateway's output), the handler processes it ran, and its WARNING/SEVERE
 * lines.
 */
final class StartLog {

    /** A new session's start phases, in microseconds, as the gateway logged them. */
    record Phases(
            long totalUs, long backendUs, boolean fromPool, long upstreamUs, long handshakeUs, long firstFrameUs) {

        /** The gateway's own share: everything but the backend phase. */
        long ownUs() {
            return totalUs - backendUs;
        }
    }

    private static final Pattern STARTED = Pattern.compile("session ([0-9a-f]+) on route \\S+: started in (\\d+)us: "
            + "backend (\\d+)us \\((pool|launch)\\), upstream (\\d+)us, handshake (\\d+)us, first frame (\\d+)us");
    private static final Pattern RUNNING = Pattern.compile("launch session ([0-9a-f]+): .* running after (\\d+)ms");
    private static final Pattern READY = Pattern.compile("launch session ([0-9a-f]+) on \\S+: ready in (\\d+)ms");
    private static final Pattern HANDLER =
            Pattern.compile("berth-handler\\[([^\\]]+)\\] listening on .* started in (\\d+) ms");
    private static final Pattern PROCESS = Pattern.compile("process (\\d+) \\(");

    final Map<String, Phases> phases = new HashMap<>();
    final Map<String, Long> runningMs = new HashMap<>();
    final Map<String, Long> readyMs = new HashMap<>();
    /** Handler start by session key; pool handlers log "pool" as their session. */
    final Map<String, Long> handlerStartMs = new HashMap<>();

    final List<Long> poolHandlerStartMs = new ArrayList<>();
    final Set<Long> processes = new LinkedHashSet<>();
    final List<String> warnings = new ArrayList<>();

    /** Reads {@code file}; a file that cannot be read gives an empty log. */
    static StartLog read(Path file) {
        StartLog log = new StartLog();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return log;
        }
        lines.forEach(log::scan);
        return log;
    }

    private void scan(String line) {
        Matcher m;
        if ((m = STARTED.matcher(line)).find()) {
            phases.put(
                    m.group(1),
                    new Phases(
                            Long.parseLong(m.group(2)),
                            Long.parseLong(m.group(3)),
                            m.group(4).equals("pool"),
                            Long.parseLong(m.group(5)),
                            Long.parseLong(m.group(6)),
                            Long.parseLong(m.group(7))));
        } else if ((m = RUNNING.matcher(line)).find()) {
            runningMs.put(m.group(1), Long.parseLong(m.group(2)));
        } else if ((m = READY.matcher(line)).find()) {
            readyMs.put(m.group(1), Long.parseLong(m.group(2)));
        } else if ((m = HANDLER.matcher(line)).find()) {
            if (m.group(1).equals("pool")) {
                poolHandlerStartMs.add(Long.parseLong(m.group(2)));
            } else {
                handlerStartMs.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        if ((m = PROCESS.matcher(line)).find()) {
            processes.add(Long.parseLong(m.group(1)));
        }
        if (line.contains(" WARNING ") || line.contains(" SEVERE ")) {
            warnings.add(line);
        }
    }
}
