package dev.berth.gateway.bench;

import dev.berth.gateway.bench.SessionClients.ColdStart;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The benchmark's Markdown report, written section by section in the order it is read. */
final class MarkdownReport {

    private final Options options;
    private final StringBuilder text = new StringBuilder();

    MarkdownReport(Options options) {
        this.options = options;
    }

    String text() {
        return text.toString();
    }

    /** Title and the run's circumstances: when, where, which engine and gateway, how to repeat it. */
    void header(
            ZonedDateTime startedAt,
            String loadBefore,
            String loadAfter,
            String engineVersion,
            String launcher,
            Path logFile) {
        text.append("# Berth cold-start and idle-memory benchmark\n\n");
        text.append("- Date: ")
                .append(startedAt.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")))
                .append('\n');
        text.append("- Machine: ").append(Host.describe()).append('\n');
        text.append("- Load average (1/5/15 min): ")
                .append(loadBefore)
                .append(" before, ")
                .append(loadAfter)
                .append(" after\n");
        text.append("- Java: ")
                .append(System.getProperty("java.vm.name"))
                .append(' ')
                .append(System.getProperty("java.runtime.version"))
                .append(" (gateway and benchmark)\n");
        text.append("- Docker engine: ")
                .append(engineVersion)
                .append("; gateway launcher: ")
                .append(launcher)
                .append('\n');
        text.append("- Gateway: `java ")
                .append(String.join(" ", GatewayProcess.ARGUMENTS))
                .append("`, route `")
                .append(GatewayProcess.ROUTE)
                .append("`; log: `")
                .append(options.root().relativize(logFile))
                .append("`\n");
        text.append("- Rerun: `").append(options.rerun()).append("`\n");
    }

    void failure(Exception failure) {
        text.append("\n**The run FAILED: ").append(failure).append("** (numbers below are what was measured before)\n");
    }

    /** The cold starts' timings, from the clients and from the gateway's log, and the checks on their hellos. */
    void coldStarts(SessionClients clients, GatewayLog log) {
        List<ColdStart> cold = clients.coldStarts();
        text.append("\n## Cold start: ")
                .append(cold.size())
                .append(" of ")
                .append(options.sessions())
                .append(" sessions, one after another\n\n");
        text.append("Each from a new client without cookie, so each launched a new container; timed from just before")
                .append(" `connect` (")
                .append(SessionClients.WARMUP_SESSIONS)
                .append(" warm-up sessions before, not counted; ")
                .append(options.pauseMs())
                .append(" ms pause between sessions; earlier sessions stay open).\n\n");
        text.append("| ms | p50 | p95 | min | max |\n|---|---:|---:|---:|---:|\n");
        row("connect → 101 (handshake done)", cold, ColdStart::upgradeMs);
        row("connect → hello frame", cold, ColdStart::helloMs);
        List<ColdStart> logged = cold.stream().filter(c -> log.timed(c.key())).toList();
        row("gateway log: container running (create+start+inspect)", logged, c -> log.runningMs(c.key()));
        row(
                "gateway log: running → ready (/ready answered)",
                logged,
                c -> log.readyMs(c.key()) - log.runningMs(c.key()));
        row("gateway log: launch total (\"ready in\")", logged, c -> log.readyMs(c.key()));
        row("after launch: connect → 101 minus \"ready in\"", logged, c -> c.upgradeMs() - log.readyMs(c.key()));
        row("101 → hello", cold, c -> c.helloMs() - c.upgradeMs());
        long fresh = cold.stream().filter(c -> c.connection() == 1).count();
        long hosts = cold.stream().map(ColdStart::hostname).distinct().count();
        long cookies = cold.stream().filter(ColdStart::cookie).count();
        List<String> failures = clients.coldFailures();
        text.append("\nChecks: ")
                .append(fresh)
                .append('/')
                .append(cold.size())
                .append(" hellos say connection 1, ")
                .append(hosts)
                .append(" distinct hostnames, ")
                .append(cookies)
                .append('/')
                .append(cold.size())
                .append(" handshakes carried the Berth-Session header and berth_session cookie; ")
                .append(failures.size())
                .append(" failed")
                .append(failures.isEmpty() ? "" : ": " + failures)
                .append(".\n");
    }

    /** The memory readings, what one idle session costs, and how the idle sessions opened. */
    void idleMemory(List<MemorySample> samples, SessionClients clients) {
        text.append("\n## Idle memory: ").append(options.idle()).append(" idle sessions\n\n");
        text.append("Gateway heap after a full GC (`jcmd GC.run` twice, then `GC.heap_info`), live bytes from ")
                .append("`jcmd GC.class_histogram`, RSS from /proc/<pid>/status. Idle = websocket open, listing ")
                .append("updates flowing (2/s per session).\n\n");
        text.append("| point | sessions | heap used | live objects | heap committed | RSS |\n")
                .append("|---|---:|---:|---:|---:|---:|\n");
        for (MemorySample s : samples) {
            text.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |%n",
                    s.label(),
                    s.sessions(),
                    s.heapUsedK() / 1024.0,
                    s.liveBytes() / 1048576.0,
                    s.heapTotalK() / 1024.0,
                    s.rssK() / 1024.0));
        }
        perSession(samples);
        if (clients.idleOpenSeconds() >= 0) {
            List<Double> times = clients.idleOpenMillis();
            List<String> failures = clients.idleFailures();
            text.append(String.format(
                    Locale.ROOT,
                    "%nThe %d sessions after the cold starts opened in %.1f s, %d at a time: "
                            + "connect → hello p50 %s ms, p95 %s ms; %d failed%s.%n",
                    times.size(),
                    clients.idleOpenSeconds(),
                    options.concurrency(),
                    percentile(times, 50),
                    percentile(times, 95),
                    failures.size(),
                    failures.isEmpty() ? "" : " (first: " + failures.get(0) + ")"));
        }
    }

    /**
     * Memory per session from the warmed-up baseline to the last reading, and the marginal cost from the one before
     * it; only once all four readings were taken.
     */
    private void perSession(List<MemorySample> samples) {
        MemorySample base = find(samples, MemorySample.WARMED_UP);
        MemorySample full = samples.size() >= 4 ? samples.get(samples.size() - 1) : null;
        MemorySample mid = samples.size() >= 4 ? samples.get(samples.size() - 2) : null;
        if (base == null || full == null || full.sessions() <= 0) {
            return;
        }
        Growth all = Growth.perSession(base, full);
        text.append(String.format(
                Locale.ROOT,
                "%nPer session (0 → %d): heap used **%.1f KiB**, live objects %.1f KiB, RSS %.1f KiB.%n",
                full.sessions(),
                all.heapK(),
                all.liveK(),
                all.rssK()));
        if (mid != null && full.sessions() > mid.sessions()) {
            Growth marginal = Growth.perSession(mid, full);
            text.append(String.format(
                    Locale.ROOT,
                    "Marginal (%d → %d): heap used %.1f KiB, live objects %.1f KiB, RSS %.1f KiB.%n",
                    mid.sessions(),
                    full.sessions(),
                    marginal.heapK(),
                    marginal.liveK(),
                    marginal.rssK()));
        }
        MemorySample fresh = find(samples, MemorySample.FRESH);
        if (fresh != null) {
            text.append(String.format(
                    Locale.ROOT,
                    "The warm-up itself left %.1f MiB more live heap than the fresh gateway"
                            + " (classes, pools, caches: one-time, not per session).%n",
                    (base.liveBytes() - fresh.liveBytes()) / 1048576.0));
        }
        int n = full.sessions() - base.sessions();
        text.append("\nLive bytes that grew most from 0 to ")
                .append(full.sessions())
                .append(" sessions:\n\n");
        text.append("| class | bytes per session | objects per session |\n|---|---:|---:|\n");
        classGrowth(base, full).stream()
                .limit(10)
                .forEach(e -> text.append(String.format(
                        Locale.ROOT,
                        "| `%s` | %.0f | %.1f |%n",
                        e.getKey(),
                        e.getValue()[1] / (double) n,
                        e.getValue()[0] / (double) n)));
    }

    /** The memory one session added between two readings, in KiB: heap used, live objects, RSS. */
    private record Growth(double heapK, double liveK, double rssK) {
        static Growth perSession(MemorySample from, MemorySample to) {
            int n = to.sessions() - from.sessions();
            return new Growth(
                    (to.heapUsedK() - from.heapUsedK()) / (double) n,
                    (to.liveBytes() - from.liveBytes()) / 1024.0 / n,
                    (to.rssK() - from.rssK()) / (double) n);
        }
    }

    /** The notes on stopping, the gateway log's warnings and failed launches, then the run's other notes. */
    void stop(List<String> stopNotes, GatewayLog log, List<String> notes) {
        text.append("\n## Stop\n\n");
        stopNotes.forEach(n -> text.append("- ").append(n).append('\n'));
        Map<String, String> launchFailures = log.launchFailures();
        text.append("- gateway log: ")
                .append(log.warnings())
                .append(" WARNING/SEVERE line(s), ")
                .append(launchFailures.size())
                .append(" failed launch(es)")
                .append(launchFailures.isEmpty() ? "" : " " + launchFailures)
                .append('\n');
        notes.forEach(n -> text.append("- ").append(n).append('\n'));
    }

    private static MemorySample find(List<MemorySample> samples, String label) {
        return samples.stream().filter(s -> s.label().equals(label)).findFirst().orElse(null);
    }

    /** Per class, {instances, bytes} in {@code to} minus those in {@code from}; the most bytes first. */
    private static List<Map.Entry<String, long[]>> classGrowth(MemorySample from, MemorySample to) {
        Map<String, long[]> diff = new LinkedHashMap<>();
        to.histogram().forEach((cls, v) -> {
            long[] before = from.histogram().getOrDefault(cls, new long[2]);
            diff.put(cls, new long[] {v[0] - before[0], v[1] - before[1]});
        });
        List<Map.Entry<String, long[]>> entries = new ArrayList<>(diff.entrySet());
        entries.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        return entries;
    }

    private <T> void row(String label, List<T> items, ToDoubleFunction<T> value) {
        List<Double> values = items.stream().map(value::applyAsDouble).toList();
        text.append("| ")
                .append(label)
                .append(" | ")
                .append(percentile(values, 50))
                .append(" | ")
                .append(percentile(values, 95))
                .append(" | ")
                .append(percentile(values, 0))
                .append(" | ")
                .append(percentile(values, 100))
                .append(" |\n");
    }

    /** Nearest-rank percentile in whole milliseconds; p=0 is the minimum, "–" for no values. */
    private static String percentile(List<Double> values, int p) {
        if (values.isEmpty()) {
            return "–";
        }
        double[] sorted =
                values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = Math.max(1, (int) Math.ceil(p / 100.0 * sorted.length));
        return Long.toString(Math.round(sorted[rank - 1]));
    }
}
