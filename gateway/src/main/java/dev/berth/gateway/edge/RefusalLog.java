package dev.berth.gateway.edge;

import dev.berth.gateway.failure.Failure;
import java.util.EnumMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Logs refusals at most once a second per failure; the count of those left out goes with the next
 * line. A flood of refused requests must not flood the log. Thread-safe: every data loop refuses.
 */
final class RefusalLog {

    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final Logger log;
    /** Per failure: when it was last logged and how many since went unlogged. */
    private final Map<Failure, long[]> lastLogged = new EnumMap<>(Failure.class);

    RefusalLog(Logger log) {
        this.log = log;
    }

    synchronized void log(Failure failure, String line) {
        long now = System.nanoTime();
        long[] last = lastLogged.computeIfAbsent(failure, f -> new long[] {now - INTERVAL_NANOS, 0});
        if (now - last[0] < INTERVAL_NANOS) {
            last[1]++;
            return;
        }
        log.warning(line
                + (last[1] > 0
                        ? " (and " + last[1] + " more " + failure.tag() + " refusals since the last line)"
                        : ""));
        last[0] = now;
        last[1] = 0;
    }
}
