package dev.berth.gateway.bench;

import dev.berth.gateway.bench.StartResult.Sample;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The start benchmark's Markdown report, written section by section in the order it is read. */
final class StartReport {

    /** The targets the numbers are compared with. */
    static final double POOL_P50_MS = 15;

    static final double POOL_P99_MS = 60;
    static final double COLD_OWN_P50_MS = 30;
    /** Issue 26: sessions arriving a few seconds apart, p50; a wave arriving faster than containers start, p95. */
    static final double SPACED_P50_MS = 10;

    static final double ARRIVALS_P95_MS = 150;
    private static final int MAX_LOG_LINES = 10;

    private final StartOptions options;
    private final StringBuilder text = new StringBuilder();

    StartReport(StartOptions options) {
        this.options = options;
    }

    String text() {
        return text.toString();
    }

    void header(ZonedDateTime startedAt, String loadBefore, String loadAfter, String loadWait, String engineVersion) {
        text.append("# Berth session-start benchmark\n\n");
        text.append("- Date: ")
                .append(startedAt.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")))
                .append('\n');
        text.append("- Machine: ").append(Host.describe()).append('\n');
        text.append("- Load average (1/5/15 min): ")
                .append(loadBefore)
                .append(" before, ")
                .append(loadAfter)
                .append(" after; ")
                .append(loadWait)
                .append('\n');
        text.append("- Java: ")
                .append(System.getProperty("java.vm.name"))
                .append(' ')
                .append(System.getProperty("java.runtime.version"))
                .append(" (gateway and benchmark)\n");
        text.append("- Docker engine: ")
                .append(engineVersion)
                .append("; handler image `")
                .append(BenchRoute.IMAGE)
                .append("`; process launcher command `")
                .append(String.join(" ", StartRoute.PROCESS_COMMAND))
                .append("` (from config/)\n");
        text.append("- Gateway: `java -Xmx512m -jar gateway/target/berth-gateway.jar --config config/.bench-<stamp>-")
                .append(
                        "<scenario>.yaml --port 0`, a new process per scenario, each with a route of its own (`bench-<random>`,")
                .append(" `sessions.onShutdown: end`, other keys as config/berth.yaml's defaults)\n");
        text.append("- Rerun: `").append(options.rerun()).append("`\n");
    }

    void failure(Exception failure) {
        text.append("\n**The run did not complete: ")
                .append(failure)
                .append("** (numbers below are what was measured)\n");
    }

    /** The targets, each with the scenario that measures it, the value and whether it was met. */
    void targets(List<StartResult> results) {
        text.append("\n## Targets\n\n");
        text.append("| target | scenario | measured | met |\n|---|---|---:|---|\n");
        for (StartResult r : results) {
            List<Sample> samples = r.samples();
            if (samples.isEmpty()) {
                continue;
            }
            if (r.scenario.arrivals) {
                arrivalTargets(r, samples);
            } else if (r.scenario.pooled && !r.scenario.burst) {
                List<Double> hello = samples.stream().map(Sample::helloMs).toList();
                target(
                        "with the pool, sessions slower than the refills: connect → first frame p50 ≤ "
                                + whole(POOL_P50_MS) + " ms",
                        r,
                        percentile(hello, 50),
                        POOL_P50_MS);
                target("… and p99 ≤ " + whole(POOL_P99_MS) + " ms", r, percentile(hello, 99), POOL_P99_MS);
            } else if (!r.scenario.pooled) {
                List<Double> own = samples.stream()
                        .map(r::phases)
                        .filter(Objects::nonNull)
                        .map(p -> p.ownUs() / 1000.0)
                        .toList();
                target(
                        "without the pool: the gateway's own share (total − backend) p50 ≤ " + whole(COLD_OWN_P50_MS)
                                + " ms",
                        r,
                        percentile(own, 50),
                        COLD_OWN_P50_MS);
            }
        }
        text.append("\nPercentiles are nearest-rank over the measured sessions (warm-up sessions excluded): with 50")
                .append(" sessions p99 is the slowest one.\n");
    }

    private void arrivalTargets(StartResult r, List<Sample> samples) {
        for (StartArrivals.Wave wave : r.waves) {
            List<Double> hello = samples.stream()
                    .filter(s -> s.burst() == wave.number())
                    .map(Sample::helloMs)
                    .toList();
            String who = wave.sessions() + " sessions arriving " + wave.gapMs() + " ms apart";
            if (r.scenario == StartScenario.DOCKER_SPACED) {
                target(
                        who + ": connect → first frame p50 ≤ " + whole(SPACED_P50_MS) + " ms",
                        r,
                        percentile(hello, 50),
                        SPACED_P50_MS);
            } else {
                target(
                        who + (wave.number() == 1 ? ", on a fresh gateway" : ", wave " + wave.number())
                                + ": connect → first frame p95 ≤ " + whole(ARRIVALS_P95_MS) + " ms",
                        r,
                        percentile(hello, 95),
                        ARRIVALS_P95_MS);
            }
        }
    }

    /** docker-spaced and docker-arrivals: per wave, the pool it found, what came from it, and the phases. */
    private void waves(StartResult r, List<Sample> samples) {
        text.append("- The route's pool (config/berth.yaml's): `pool: ")
                .append(r.poolYaml)
                .append("`\n");
        for (StartArrivals.Wave wave : r.waves) {
            List<Sample> mine =
                    samples.stream().filter(s -> s.burst() == wave.number()).toList();
            List<Double> hello = mine.stream().map(Sample::helloMs).toList();
            long hits = mine.stream().filter(s -> isPool(r, s, true)).count();
            text.append(String.format(
                    Locale.ROOT,
                    "\n**Wave %d**: %d sessions, one every %d ms; the pool before it: %d idle, target %d%s."
                            + " Connect → first frame p50 %s ms, p95 %s ms, max %s ms; **%d of %d from the pool**.%n%n",
                    wave.number(),
                    wave.sessions(),
                    wave.gapMs(),
                    wave.idleBefore(),
                    wave.targetBefore(),
                    wave.settleMs() < 0
                            ? " (a fresh gateway, after the warm-up)"
                            : String.format(
                                    Locale.ROOT, " (it settled %.1f s after the wave before)", wave.settleMs() / 1000),
                    ms(percentile(hello, 50)),
                    ms(percentile(hello, 95)),
                    ms(percentile(hello, 100)),
                    hits,
                    mine.size()));
            text.append("Pool hits:\n\n");
            table(r, mine.stream().filter(s -> isPool(r, s, true)).toList());
            List<Sample> launched =
                    mine.stream().filter(s -> isPool(r, s, false)).toList();
            if (!launched.isEmpty()) {
                text.append("\nPool empty (launched):\n\n");
                table(r, launched);
            }
        }
    }

    private void target(String what, StartResult r, double value, double limit) {
        text.append("| ")
                .append(what)
                .append(" | ")
                .append(r.scenario.flag())
                .append(" | ")
                .append(Double.isNaN(value) ? "–" : ms(value) + " ms")
                .append(" | ")
                .append(Double.isNaN(value) ? "not measured" : value <= limit ? "yes" : "**no**")
                .append(" |\n");
    }

    void legend() {
        text.append("\n## What is measured\n\n");
        text.append(
                        "Every session is a brand-new websocket client (no cookie) that connects to the route, reads the first")
                .append(
                        " frame, which is its own handler's hello (the hello's `session` is the session key), and closes with")
                .append(" 1000, which ends the session and removes its backend.\n\n");
        text.append(
                        "- **client: connect → first frame**: what a user waits for, from just before the TCP connect to the")
                .append(" hello; **client: connect → 101** to the handshake answer.\n");
        text.append(
                        "- **gateway** rows: the gateway's own log line for that session (`session <key> on route <r>: started")
                .append(" in …`), joined by the key. From the session's creation (the upgrade request read):")
                .append(" **backend** = pool claim, or the full launch (container create + start + handler ready);")
                .append(" **upstream** = dialling the handler's websocket (0 for a pool entry, dialled in advance);")
                .append(" **handshake** = until the client's 101 is written; **first frame** = 101 → the first backend")
                .append(" frame written to the client; **total** = all of it.\n");
        text.append(
                        "- **gateway's own share** = total − backend (upstream + handshake + first frame), per session. For a")
                .append(
                        " launched backend, upstream and first frame also hold the new handler's own time: answering its first")
                .append(
                        " websocket upgrade, and writing its first frame, both cold code in a JVM that just started; so this")
                .append(
                        " is an upper bound of the gateway's own work. For a pool entry the handler has answered both already")
                .append(" (dialled in advance, hello read at the claim).\n");
        text.append("- **backend (pool claim)**: the claim message to the pooled handler and its hello back: the first")
                .append(
                        " message that handler ever reads, so cold code in its JVM (with docker, also within the container's")
                .append(" CPU limit).\n");
        text.append("- **launch: create + start** and **running → ready** come from the launch's own log lines")
                .append(
                        " (`running after`, `ready in`); **handler's own start** is the handler's `listening … started in")
                .append(
                        " N ms` (process start → listening, 10 ms resolution): for docker-cold read with `docker logs` of")
                .append(" each container after its hello and before the client closed (outside the measured time), for")
                .append(" process-cold from the gateway's output, which the child processes share.\n");
        text.append(
                        "- **outside the gateway** = client connect → first frame − gateway total: TCP connect, the upgrade")
                .append(" request up to the session's creation, and the hello's way to the client.\n");
    }

    void scenario(StartResult r) {
        text.append("\n## ")
                .append(r.scenario.flag())
                .append(": ")
                .append(r.scenario.description)
                .append("\n\n");
        List<Sample> samples = r.samples();
        text.append("- Outcome: ")
                .append(r.outcome.equals("complete") ? "complete" : "**" + r.outcome + "**")
                .append(r.seconds < 0 ? "" : String.format(Locale.ROOT, " in %.0f s", r.seconds))
                .append("; route `")
                .append(r.route)
                .append("`; gateway log `target/bench/")
                .append(r.logFile.getFileName())
                .append("`\n");
        if (r.listeningMs >= 0) {
            text.append(String.format(
                    Locale.ROOT,
                    "- Gateway process start → listening: %.0f ms%s; load average at the " + "start: %s%n",
                    r.listeningMs,
                    r.initialFillMs < 0
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    "; listening → pool full (%s): %.0f ms",
                                    r.scenario.arrivals ? "its floor" : Integer.toString(options.pool()),
                                    r.initialFillMs),
                    r.loadAtStart));
        }
        if (r.cpuBusy >= 0) {
            text.append(String.format(
                    Locale.ROOT,
                    "- Machine CPU in use during the scenario (all processes: gateway, handlers,"
                            + " engine, benchmark, anything else; from /proc/stat): %.0f%% of %d cores%n",
                    r.cpuBusy * 100,
                    Runtime.getRuntime().availableProcessors()));
        }
        long matched = samples.stream().filter(s -> r.phases(s) != null).count();
        text.append("- Sessions: ")
                .append(samples.size())
                .append(" measured (")
                .append(r.warmups)
                .append(" warm-up before, not counted), ")
                .append(matched)
                .append(" matched to their gateway log line, ")
                .append(r.failures.size())
                .append(" failed");
        if (r.scenario.arrivals) {
            text.append("; open loop: each connects on time whatever the others do, and stays open until the last")
                    .append(" of its wave had its hello");
        } else if (r.scenario.burst) {
            text.append("; ")
                    .append(r.bursts)
                    .append(" burst(s) of up to ")
                    .append(options.burst())
                    .append(" clients at once, each on a full pool with no session left");
        } else if (r.scenario.pooled) {
            text.append("; one connect every ")
                    .append(r.pauseMs)
                    .append(" ms (")
                    .append(r.pauseSource)
                    .append(')');
        } else {
            text.append("; each after the previous session had ended (backend removed), plus ")
                    .append(options.coldPauseMs())
                    .append(" ms");
        }
        text.append('\n');
        if (r.scenario.pooled) {
            poolLines(r, samples);
        }
        r.failures.stream()
                .limit(MAX_LOG_LINES)
                .forEach(f -> text.append("- failed: ").append(f).append('\n'));
        r.notes.forEach(n -> text.append("- ").append(n).append('\n'));
        if (samples.isEmpty()) {
            stopLines(r);
            return;
        }
        if (r.scenario.arrivals) {
            waves(r, samples);
        } else if (r.scenario.burst) {
            text.append("\nPool hits:\n\n");
            table(r, samples.stream().filter(s -> isPool(r, s, true)).toList());
            text.append("\nPool empty (launched):\n\n");
            table(r, samples.stream().filter(s -> isPool(r, s, false)).toList());
            bursts(r, samples);
        } else {
            text.append('\n');
            table(r, samples);
            List<Sample> launched =
                    samples.stream().filter(s -> isPool(r, s, false)).toList();
            if (r.scenario.pooled && !launched.isEmpty()) {
                text.append("\n**")
                        .append(launched.size())
                        .append(" session(s) found the pool empty and were launched:**")
                        .append(" sessions ")
                        .append(launched.stream()
                                .map(s -> "#" + s.index() + " (pool idle before: " + s.idleBefore() + ", "
                                        + ms(s.helloMs()) + " ms)")
                                .collect(Collectors.joining(", ")))
                        .append("\n\n");
                text.append("Pool hits only:\n\n");
                table(r, samples.stream().filter(s -> isPool(r, s, true)).toList());
            }
        }
        stopLines(r);
    }

    private static boolean isPool(StartResult r, Sample s, boolean fromPool) {
        StartLog.Phases p = r.phases(s);
        return p != null && p.fromPool() == fromPool;
    }

    private void poolLines(StartResult r, List<Sample> samples) {
        Map<Integer, Long> idle = samples.stream()
                .filter(s -> s.idleBefore() >= 0)
                .collect(Collectors.groupingBy(Sample::idleBefore, TreeMap::new, Collectors.counting()));
        if (!idle.isEmpty() && !r.scenario.burst && !r.scenario.arrivals) {
            text.append("- `berth_pool_idle` just before each connect: ")
                    .append(idle.entrySet().stream()
                            .map(e -> e.getKey() + " idle → " + e.getValue() + " session(s)")
                            .collect(Collectors.joining(", ")))
                    .append('\n');
        }
        long hits = samples.stream().filter(s -> isPool(r, s, true)).count();
        long launched = samples.stream().filter(s -> isPool(r, s, false)).count();
        text.append("- Log lines of the measured sessions: ")
                .append(hits)
                .append(" `(pool)`, ")
                .append(launched)
                .append(" `(launch)`");
        if (!Double.isNaN(r.claimHits)) {
            text.append(String.format(
                    Locale.ROOT,
                    "; `berth_pool_claims_total` over the whole gateway, warm-up included:" + " hit %.0f, empty %.0f",
                    r.claimHits,
                    r.claimEmpty));
        }
        text.append('\n');
        if (!Double.isNaN(r.refillCount) && r.refillCount > 0) {
            text.append(String.format(
                    Locale.ROOT,
                    "- Pool refills (`berth_pool_refill_duration_seconds`: launch → ready"
                            + " and dialled): %.0f, mean %.0f ms, max %.0f ms%s%n",
                    r.refillCount,
                    r.refillSumS * 1000 / r.refillCount,
                    r.refillMaxS * 1000,
                    " (the max is Micrometer's, over its last few minutes)"));
        }
        if (!r.log.poolHandlerStartMs.isEmpty()) {
            List<Double> starts =
                    r.log.poolHandlerStartMs.stream().map(Long::doubleValue).toList();
            text.append("- Pool handlers' own start (process start → listening, off the critical path): p50 ")
                    .append(ms(percentile(starts, 50)))
                    .append(" ms, max ")
                    .append(ms(percentile(starts, 100)))
                    .append(" ms\n");
        }
    }

    /** One row per phase: p50, p95, p99, max of the sessions given. */
    private void table(StartResult r, List<Sample> samples) {
        text.append("| ms | n | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n");
        List<StartLog.Phases> phases =
                samples.stream().map(r::phases).filter(Objects::nonNull).toList();
        row("client: connect → 101", samples.stream().map(Sample::upgradeMs).toList());
        row(
                "**client: connect → first frame (hello)**",
                samples.stream().map(Sample::helloMs).toList());
        row("gateway: total", us(phases, StartLog.Phases::totalUs));
        boolean allPool = !phases.isEmpty() && phases.stream().allMatch(StartLog.Phases::fromPool);
        boolean nonePool = phases.stream().noneMatch(StartLog.Phases::fromPool);
        row(
                "gateway: backend" + (allPool ? " (pool claim)" : nonePool ? " (launch)" : " (pool claim or launch)"),
                us(phases, StartLog.Phases::backendUs));
        if (nonePool && !phases.isEmpty()) {
            List<String> keys = samples.stream()
                    .filter(s -> r.phases(s) != null)
                    .map(Sample::key)
                    .toList();
            List<Double> running = keys.stream()
                    .map(r.log.runningMs::get)
                    .filter(Objects::nonNull)
                    .map(Long::doubleValue)
                    .toList();
            List<Double> toReady = keys.stream()
                    .filter(k -> r.log.runningMs.containsKey(k) && r.log.readyMs.containsKey(k))
                    .map(k -> (double) (r.log.readyMs.get(k) - r.log.runningMs.get(k)))
                    .toList();
            row(
                    "· launch: "
                            + (r.scenario.docker()
                                    ? "container create + start"
                                    : r.scenario.swarm() ? "service create + task running" : "process start")
                            + " (running after)",
                    running);
            row("· launch: running → ready (handler start + readiness probe)", toReady);
            List<Double> handler = new ArrayList<>();
            for (Sample s : samples) {
                if (s.handlerStartMs() >= 0) {
                    handler.add((double) s.handlerStartMs());
                } else if (r.log.handlerStartMs.containsKey(s.key())) {
                    handler.add((double) r.log.handlerStartMs.get(s.key()));
                }
            }
            row("· handler's own start: process start → listening", handler);
        }
        row("gateway: upstream (dial)", us(phases, StartLog.Phases::upstreamUs));
        row("gateway: handshake (→ 101)", us(phases, StartLog.Phases::handshakeUs));
        row("gateway: first frame (101 → hello written)", us(phases, StartLog.Phases::firstFrameUs));
        row("**gateway's own share (total − backend)**", us(phases, StartLog.Phases::ownUs));
        List<Double> outside = samples.stream()
                .filter(s -> r.phases(s) != null)
                .map(s -> s.helloMs() - r.phases(s).totalUs() / 1000.0)
                .toList();
        row("outside the gateway (client − gateway total)", outside);
        List<Double> logReads = samples.stream()
                .filter(s -> s.handlerLogMs() >= 0)
                .map(Sample::handlerLogMs)
                .toList();
        if (!logReads.isEmpty()) {
            long found = samples.stream().filter(s -> s.handlerStartMs() >= 0).count();
            text.append("\n`docker logs` of each container (for the handler's own start, ")
                    .append(found)
                    .append(" of ")
                    .append(logReads.size())
                    .append(" found) took p50 ")
                    .append(ms(percentile(logReads, 50)))
                    .append(" ms, max ")
                    .append(ms(percentile(logReads, 100)))
                    .append(" ms per container, after the hello (not in the times above).\n");
        }
    }

    /** Per burst: which sessions (in the order they were opened) were pool hits, and the times of both kinds. */
    private void bursts(StartResult r, List<Sample> samples) {
        text.append("\nPer burst (sessions numbered in the order their clients connected; hello times in ms):\n\n");
        text.append("| burst | pool idle before | pool hits: session (hello) | launched: n, hello min – max |\n")
                .append("|---:|---:|---|---|\n");
        Map<Integer, List<Sample>> byBurst =
                samples.stream().collect(Collectors.groupingBy(Sample::burst, TreeMap::new, Collectors.toList()));
        byBurst.forEach((burst, list) -> {
            int first = list.stream().mapToInt(Sample::index).min().orElse(1);
            List<Sample> hits = list.stream().filter(s -> isPool(r, s, true)).toList();
            List<Double> launched = list.stream()
                    .filter(s -> isPool(r, s, false))
                    .map(Sample::helloMs)
                    .toList();
            text.append("| ")
                    .append(burst)
                    .append(" | ")
                    .append(list.get(0).idleBefore())
                    .append(" | ")
                    .append(
                            hits.isEmpty()
                                    ? "none"
                                    : hits.stream()
                                            .map(s -> "#" + (s.index() - first + 1) + " (" + ms(s.helloMs()) + ")")
                                            .collect(Collectors.joining(", ")))
                    .append(" | ")
                    .append(launched.size())
                    .append(
                            launched.isEmpty()
                                    ? ""
                                    : ", " + ms(percentile(launched, 0)) + " – " + ms(percentile(launched, 100)))
                    .append(" |\n");
        });
    }

    private void stopLines(StartResult r) {
        text.append('\n');
        r.stopNotes.forEach(n -> text.append("- Stop: ").append(n).append('\n'));
        List<String> warnings = r.log.warnings;
        text.append("- Gateway log: ")
                .append(warnings.size())
                .append(" WARNING/SEVERE line(s)")
                .append(
                        warnings.isEmpty()
                                ? "\n"
                                : (warnings.size() > MAX_LOG_LINES ? ", the first " + MAX_LOG_LINES : "")
                                        + ":\n\n```\n"
                                        + warnings.stream()
                                                .limit(MAX_LOG_LINES)
                                                .map(StartReport::abbreviate)
                                                .collect(Collectors.joining("\n"))
                                        + "\n```\n");
    }

    void cleanup(List<String> notes) {
        if (!notes.isEmpty()) {
            text.append("\n## Cleanup\n\n");
            notes.forEach(n -> text.append("- ").append(n).append('\n'));
        }
    }

    private void row(String label, List<Double> values) {
        text.append("| ")
                .append(label)
                .append(" | ")
                .append(values.size())
                .append(" | ")
                .append(ms(percentile(values, 50)))
                .append(" | ")
                .append(ms(percentile(values, 95)))
                .append(" | ")
                .append(ms(percentile(values, 99)))
                .append(" | ")
                .append(ms(percentile(values, 100)))
                .append(" |\n");
    }

    private static List<Double> us(List<StartLog.Phases> phases, Function<StartLog.Phases, Long> micros) {
        return phases.stream().map(p -> micros.apply(p) / 1000.0).toList();
    }

    /** Nearest-rank percentile; p=0 is the minimum, NaN for no values. */
    static double percentile(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted =
                values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = Math.max(1, (int) Math.ceil(p / 100.0 * sorted.length));
        return sorted[rank - 1];
    }

    /** Milliseconds: two decimals below 1, one below 100, none above; "–" for NaN. */
    static String ms(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        double abs = Math.abs(value);
        return String.format(Locale.ROOT, abs < 1 ? "%.2f" : abs < 100 ? "%.1f" : "%.0f", value);
    }

    private static String whole(double ms) {
        return Long.toString(Math.round(ms));
    }

    private static String abbreviate(String line) {
        return line.length() <= 400 ? line : line.substring(0, 400) + "…";
    }
}
