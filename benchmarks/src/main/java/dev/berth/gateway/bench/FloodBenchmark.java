package dev.berth.gateway.bench;

import dev.berth.gateway.TestGateway;
import dev.berth.gateway.edge.FloodVictims;
import dev.berth.gateway.edge.SpawnFlood;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a spawn flood from one address costs other clients' round trips. Run it with
 * {@code scripts/bench-flood.sh}; the Markdown report goes to stdout and to
 * {@code target/bench/flood-<timestamp>.md}, progress to stderr.
 *
 * <p>A gateway in this JVM with in-JVM echo backends (FakeLauncher, 20 ms launches: the flood is
 * about admission, not the engine) and the per-client limits of SpawnFloodTest. Five victim
 * sessions (127.0.0.2 to .6) echo 64 bytes in a closed loop with a pause between round trips.
 * A warm-up flood (not measured) compiles the refusal path on every event loop and lets the
 * flooder take the sessions its address is allowed, as any client may. Then each round measures
 * the victims quiet and then while 127.0.0.9 opens {@code --rate} upgrades a second; the ratio is
 * the flooded p99 over the quiet p99, the quiet one taken as at least 1 ms (below that it is this
 * machine's scheduling noise). Rounds are side by side in one run, and the median round is the
 * result.
 */
public final class FloodBenchmark implements Benchmark {

    private static final String USAGE = """
      Usage: scripts/bench-flood.sh [--rounds R] [--flood-seconds S] [--warmup-seconds W] [--rate N]
                                    [--threads T] [--victims V] [--think-ms MS] [--root DIR]
        --rounds R          quiet then flooded phases, side by side (default 3)
        --flood-seconds S   each phase's length (default 3)
        --warmup-seconds W  the unmeasured warm-up flood (default 10)
        --rate N            upgrade attempts a second from the flooder; 0: as fast as it can (default 1000)
        --threads T         the flooder's threads (default 3)
        --victims V         victim sessions, one address each (default 5)
        --think-ms MS       each victim's pause between round trips (default 1)
        --root DIR          repository root (default: the current directory)""";
    private static final int MIN_ECHOES = 300;
    private static final int MAX_ATTEMPTS_PER_FLOOD = 200_000;
    private static final int PER_CLIENT_MAX_SESSIONS = 20;
    private static final int NEW_PER_MINUTE = 60;

    private record Round(
            double quietP99,
            double quietP50,
            int quietCount,
            double floodP99,
            double floodP50,
            int floodCount,
            double floodMax,
            int attempts,
            Map<Integer, Integer> answers,
            String quietCpu,
            String floodCpu) {
        double ratio() {
            return floodP99 / Math.max(quietP99, 1.0);
        }
    }

    private final Path root;
    private final int rounds;
    private final long floodMs;
    private final long warmupMs;
    private final int rate;
    private final int threads;
    private final int victimCount;
    private final int thinkMs;
    private final ZonedDateTime startedAt = ZonedDateTime.now();
    private final List<Round> measured = new ArrayList<>();
    private final Vertx vertx = Vertx.vertx();
    private FakeLauncher launcher;
    private TestGateway gateway;
    private FloodVictims victims;
    private String flooderLaunches = "?";
    private String refusals = "?";

    private FloodBenchmark(CommandLine line) {
        root = line.repositoryRoot();
        rounds = line.number("--rounds", 3, 1, 50);
        floodMs = line.number("--flood-seconds", 3, 1, 120) * 1000L;
        warmupMs = line.number("--warmup-seconds", 10, 0, 300) * 1000L;
        rate = line.number("--rate", 1000, 0, 100_000);
        threads = line.number("--threads", 3, 1, 32);
        victimCount = line.number("--victims", 5, 1, 50);
        thinkMs = line.number("--think-ms", 1, 0, 1000);
    }

    public static void main(String[] args) throws Exception {
        CommandLine line;
        try {
            line = CommandLine.parse(
                    args,
                    Set.of(
                            "--rounds",
                            "--flood-seconds",
                            "--warmup-seconds",
                            "--rate",
                            "--threads",
                            "--victims",
                            "--think-ms"),
                    USAGE);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(64);
            return;
        }
        FloodBenchmark bench = new FloodBenchmark(line);
        Path dir = bench.root.resolve("target/bench");
        Files.createDirectories(dir);
        String stamp = bench.startedAt.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Benchmark.runAndReport(bench, bench.root, dir.resolve("flood-" + stamp + ".md"));
        System.exit(0);
    }

    @Override
    public void run() throws Exception {
        launcher = new FakeLauncher(vertx, Duration.ofMillis(20));
        gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .maxSessions(200)
                .sessions("perClient: {maxSessions: " + PER_CLIENT_MAX_SESSIONS + ", newPerMinute: " + NEW_PER_MINUTE
                        + "}, launches: {maxConcurrent: 4, queue: 8}")
                .start(vertx);
        victims = FloodVictims.open(gateway.port, victimCount, thinkMs);
        if (warmupMs > 0) {
            Progress.print("warm-up flood, " + warmupMs / 1000 + " s");
            SpawnFlood warmup = flood(warmupMs);
            victims.echo(1000, warmup.running());
            warmup.join();
        }
        for (int r = 1; r <= rounds; r++) {
            Round round = measureRound();
            measured.add(round);
            Progress.print(String.format(
                    Locale.ROOT,
                    "round %d: ratio %.2f (quiet p99 %.3f ms, flooded p99 %.3f ms)",
                    r,
                    round.ratio(),
                    round.quietP99(),
                    round.floodP99()));
        }
        flooderLaunches = String.valueOf(launcher.launches.get() - victimCount);
        refusals = refusalsByReason().toString();
    }

    private SpawnFlood flood(long durationMs) throws InterruptedException, java.net.UnknownHostException {
        return SpawnFlood.start(new SpawnFlood.Plan(
                InetAddress.getByName("127.0.0.9"), gateway.port, threads, rate, durationMs, MAX_ATTEMPTS_PER_FLOOD));
    }

    private Round measureRound() throws Exception {
        AtomicBoolean quietPhase = new AtomicBoolean(true);
        Thread clock = new Thread(
                () -> {
                    try {
                        Thread.sleep(floodMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    quietPhase.set(false);
                },
                "quiet-clock");
        Map<String, Long> cpu = cpuByThreadGroup();
        long begun = System.nanoTime();
        clock.start();
        long[] quiet = victims.echo(MIN_ECHOES, quietPhase).rtt();
        String quietCpu = cpuShare(cpu, System.nanoTime() - begun);

        cpu = cpuByThreadGroup();
        SpawnFlood flood = flood(floodMs);
        long[] flooded = victims.echo(MIN_ECHOES, flood.running()).rtt();
        flood.join();
        String floodCpu = cpuShare(cpu, System.nanoTime() - flood.begun())
                + String.format(
                        Locale.ROOT,
                        ", flooder threads %d%%",
                        flood.cpuNanos() * 100 / Math.max(1, flood.tookMs() * 1_000_000));
        return new Round(
                percentileMs(quiet, 0.99),
                percentileMs(quiet, 0.50),
                quiet.length,
                percentileMs(flooded, 0.99),
                percentileMs(flooded, 0.50),
                flooded.length,
                percentileMs(flooded, 1.0),
                flood.attempts(),
                flood.statuses(),
                quietCpu,
                floodCpu);
    }

    @Override
    public void cleanup() {
        if (victims != null) {
            victims.close();
        }
        try {
            if (gateway != null) {
                gateway.close();
            }
        } catch (Exception e) {
            Progress.print("closing the gateway failed: " + e);
        }
        try {
            vertx.close().await(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            Progress.print("Vert.x did not close within 30 s");
        }
    }

    @Override
    public String report(Exception failure) {
        StringBuilder text = new StringBuilder("# Berth spawn-flood benchmark\n\n");
        text.append("- Date: ")
                .append(startedAt.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")))
                .append('\n');
        text.append("- Machine: ").append(Host.describe()).append('\n');
        text.append("- Gateway: in this JVM, in-JVM echo backends (20 ms launches); perClient maxSessions ")
                .append(PER_CLIENT_MAX_SESSIONS)
                .append(", newPerMinute ")
                .append(NEW_PER_MINUTE)
                .append(", maxStarting 8; launches maxConcurrent 4, queue 8\n");
        text.append(String.format(
                Locale.ROOT,
                "- Flood: 127.0.0.9, %s upgrades a second from %d threads, half left before the"
                        + " answer; %d s per phase, %d s warm-up; %d victims (64 B echoes, %d ms between round trips)%n",
                rate == 0 ? "as many" : String.valueOf(rate),
                threads,
                floodMs / 1000,
                warmupMs / 1000,
                victimCount,
                thinkMs));
        text.append(String.format(
                Locale.ROOT,
                "- Rerun: `scripts/bench-flood.sh --rounds %d --flood-seconds %d --rate %d`%n",
                rounds,
                floodMs / 1000,
                rate));
        if (failure != null) {
            text.append("\n**The run FAILED: ").append(failure).append("** (rounds below are those measured before)\n");
        }
        text.append(
                        "\n| round | quiet p50 / p99 ms | flooded p50 / p99 / max ms | ratio | flood attempts | answers |\n")
                .append("|---:|---:|---:|---:|---:|---|\n");
        for (int i = 0; i < measured.size(); i++) {
            Round round = measured.get(i);
            text.append(String.format(
                    Locale.ROOT,
                    "| %d | %.3f / %.3f (%d) | %.3f / %.3f / %.3f (%d) | %.2f | %d | %s |%n",
                    i + 1,
                    round.quietP50(),
                    round.quietP99(),
                    round.quietCount(),
                    round.floodP50(),
                    round.floodP99(),
                    round.floodMax(),
                    round.floodCount(),
                    round.ratio(),
                    round.attempts(),
                    round.answers()));
        }
        if (!measured.isEmpty()) {
            Round median = measured.stream()
                    .sorted(Comparator.comparingDouble(Round::ratio))
                    .toList()
                    .get(measured.size() / 2);
            text.append(String.format(
                    Locale.ROOT,
                    "%n**Median ratio %.2f** (flooded p99 / max(quiet p99, 1 ms); the target is 2)"
                            + "%n%nCPU in the median round, as a share of one core: quiet: %s; flooded: %s%n",
                    median.ratio(),
                    median.quietCpu(),
                    median.floodCpu()));
        }
        text.append("\nLaunches for the flooder over the run: ")
                .append(flooderLaunches)
                .append("; refusals in /metrics: ")
                .append(refusals)
                .append('\n');
        return text.toString();
    }

    private Map<String, Long> refusalsByReason() {
        Map<String, Long> byReason = new TreeMap<>();
        var line = java.util.regex.Pattern.compile(
                        "berth_refusals_total\\{reason=\"([a-z_]+)\",route=\"[^\"]+\"} ([0-9.E]+)")
                .matcher(gateway.get("/metrics"));
        while (line.find()) {
            long count = (long) Double.parseDouble(line.group(2));
            if (count > 0) {
                byReason.merge(line.group(1), count, Long::sum);
            }
        }
        return byReason;
    }

    private static double percentileMs(long[] nanos, double quantile) {
        if (nanos.length == 0) {
            return Double.NaN;
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(quantile * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    /** CPU time (ns) of this JVM's threads by kind (each event loop, flooder, victims, other), the process and the machine. */
    private static Map<String, Long> cpuByThreadGroup() {
        ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
        Map<String, Long> byGroup = new TreeMap<>();
        for (ThreadInfo info : threadBean.getThreadInfo(threadBean.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            String name = info.getThreadName();
            String group = name.startsWith("vert.x-eventloop")
                    ? name.replace("vert.x-eventloop-thread-", "eventloop-")
                    : name.startsWith("flood") ? "flooder" : name.startsWith("victim") ? "victims" : "other";
            byGroup.merge(group, Math.max(0, threadBean.getThreadCpuTime(info.getThreadId())), Long::sum);
        }
        byGroup.put("process", processCpuNanos());
        long[] machine = machineCpu();
        byGroup.put("machineBusy", machine[0]);
        byGroup.put("machineTotal", machine[1]);
        return byGroup;
    }

    private static String cpuShare(Map<String, Long> before, long wallNanos) {
        Map<String, Long> after = cpuByThreadGroup();
        StringBuilder out = new StringBuilder("this JVM ")
                .append((after.get("process") - before.get("process")) * 100 / wallNanos)
                .append('%');
        if (after.get("machineTotal") > before.get("machineTotal")) {
            out.append(", machine busy ")
                    .append((after.get("machineBusy") - before.get("machineBusy"))
                            * 100
                            / (after.get("machineTotal") - before.get("machineTotal")))
                    .append("% of ")
                    .append(Runtime.getRuntime().availableProcessors())
                    .append(" cores");
        }
        after.forEach((group, cpu) -> {
            long share = (cpu - before.getOrDefault(group, 0L)) * 100 / wallNanos;
            if (!group.equals("process") && !group.startsWith("machine") && share >= 1) {
                out.append(", ").append(group).append(' ').append(share).append('%');
            }
        });
        return out.toString();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Busy and total jiffies of the whole machine (/proc/stat), or zeros where there is none. */
    private static long[] machineCpu() {
        try {
            String[] fields =
                    Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < fields.length; i++) {
                total += Long.parseLong(fields[i]);
            }
            long idle = Long.parseLong(fields[4]) + Long.parseLong(fields[5]);
            return new long[] {total - idle, total};
        } catch (Exception e) {
            return new long[] {0, 0};
        }
    }
}
