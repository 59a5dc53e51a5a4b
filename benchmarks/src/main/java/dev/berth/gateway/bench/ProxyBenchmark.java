package dev.berth.gateway.bench;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The data path side by side: the same echo containers ({@link EchoContainers}) reached directly,
 * through nginx ({@link NginxProxy}) and through Berth (the gateway jar with {@code launcher:
 * fixed}, so every client is a session of its own, piped to those containers in turn), by the same
 * clients ({@link EchoLoad}), in interleaved rounds (the order of the three paths rotates each
 * round). For each message size and connection count: round trips at a fixed rate (p50, p99,
 * p999) and the maximum throughput. The report ({@link ProxyReport}) gives medians over the
 * rounds and the ratios, which are the result on a shared, noisy machine. Run it with
 * {@code scripts/bench-proxy.sh}; bounded by {@code --time-limit-s}, and everything it starts is
 * stopped in a finally block and a shutdown hook.
 */
public final class ProxyBenchmark implements Benchmark {

    static final List<String> PATHS = List.of("direct", "nginx", "berth");
    private static final String USAGE = """
      usage: ProxyBenchmark [--rounds R] [--backends K] [--seconds S] [--max-connections N] [--time-limit-s T]
        --rounds R           interleaved rounds of every case (default 2)
        --backends K         echo containers (default 4)
        --seconds S          each measurement's length (default 3)
        --max-connections N  leave out cases with more connections (default 1000)
        --max-size B         leave out cases with larger messages (default 1048576)
        --time-limit-s T     the whole run stops after this many seconds (default 1500)""";

    /** One measured case: a message size and a connection count, with its fixed rate and throughput window. */
    record Case(int size, int connections, int perSecond, int window) {
        String label() {
            return ProxyReport.size(size) + " × " + connections;
        }
    }

    private static final Duration WARM_UP = Duration.ofSeconds(4);
    private final Path root;
    private final int rounds;
    private final int backends;
    private final Duration measure;
    private final Deadline deadline;
    private final String stamp = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    private final Path workDir;
    private final List<Case> cases = new ArrayList<>();
    private final ProxyReport report;
    private EchoContainers echoes;
    private NginxProxy nginx;
    private FixedGateway gateway;
    private int berthPort;

    private ProxyBenchmark(CommandLine line) {
        this.root = line.repositoryRoot();
        this.rounds = line.number("--rounds", 2, 1, 20);
        this.backends = line.number("--backends", 4, 1, 64);
        this.measure = Duration.ofSeconds(line.number("--seconds", 3, 1, 60));
        this.deadline = new Deadline(Duration.ofSeconds(line.number("--time-limit-s", 1500, 60, 7200)));
        int maxConnections = line.number("--max-connections", 1000, 1, 1000);
        int maxSize = line.number("--max-size", 1 << 20, 64, 1 << 20);
        this.workDir = root.resolve("target/bench/proxy-" + stamp);
        for (int connections : new int[] {1, 100, 1000}) {
            if (connections > maxConnections) {
                continue;
            }
            // One connection can carry one message a millisecond (the sender's tick) at most.
            cases.add(new Case(64, connections, connections == 1 ? 500 : 2000, 8));
            if (maxSize >= 16 << 10) {
                cases.add(new Case(16 << 10, connections, connections == 1 ? 500 : 1000, 4));
            }
            if (connections <= 100
                    && maxSize >= 1 << 20) { // 1,000 × 1 MiB in flight would measure memory, not the path
                cases.add(new Case(1 << 20, connections, 20, 1));
            }
        }
        this.report = new ProxyReport(
                cases,
                rounds,
                measure,
                backends,
                "scripts/bench-proxy.sh --rounds " + rounds + " --backends " + backends + " --seconds "
                        + measure.toSeconds() + " --max-connections " + maxConnections + " --max-size " + maxSize);
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        CommandLine line;
        try {
            line = CommandLine.parse(
                    args,
                    Set.of("--rounds", "--backends", "--seconds", "--max-connections", "--max-size", "--time-limit-s"),
                    USAGE);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(64);
            return;
        }
        ProxyBenchmark bench = new ProxyBenchmark(line);
        Files.createDirectories(bench.workDir);
        Benchmark.runAndReport(bench, bench.root, bench.workDir.resolve("proxy.md"));
        Path docs = bench.root.resolve("docs/benchmarks");
        Files.createDirectories(docs);
        Files.copy(
                bench.workDir.resolve("proxy.md"),
                docs.resolve("proxy.md"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        bench.report.writePlot(docs.resolve("proxy.png"));
        Progress.print("docs/benchmarks/proxy.md and proxy.png updated");
        System.exit(0); // the Maven JVM keeps non-daemon threads of the clients' Vert.x otherwise
    }

    @Override
    public void run() throws Exception {
        report.machine(Host.describe(), Host.loadAverage(), NginxProxy.version());
        echoes = EchoContainers.start(BenchRoute.IMAGE, backends, "256m");
        Progress.print(backends + " echo containers at " + echoes.addresses());
        nginx = NginxProxy.start(workDir.resolve("nginx"), echoes.addresses(), freePort());
        startGateway();
        try (EchoLoad load = new EchoLoad()) {
            for (String path : PATHS) {
                warmUp(load, path);
            }
            for (int round = 0; round < rounds; round++) {
                for (Case measured : cases) {
                    for (int turn = 0; turn < PATHS.size(); turn++) {
                        String path = PATHS.get((turn + round) % PATHS.size());
                        deadline.check(measured.label() + " via " + path);
                        measure(load, path, measured);
                    }
                }
                Progress.print("round " + (round + 1) + " of " + rounds + " done");
            }
        }
        report.loadAfter(Host.loadAverage());
    }

    private void measure(EchoLoad load, String path, Case measured) throws Exception {
        open(load, path, measured.connections());
        try {
            EchoLoad.Latency latency = load.latency(measured.size(), measured.perSecond(), measure);
            ProcessHandle proxy = proxyProcess(path);
            long cpuBefore = proxy == null ? 0 : ProcessCpu.nanos(proxy);
            long begun = System.nanoTime();
            EchoLoad.Throughput throughput =
                    load.throughput(measured.size(), measured.window(), Duration.ofSeconds(1), measure);
            double cpuCores = proxy == null
                    ? Double.NaN
                    : (double) (ProcessCpu.nanos(proxy) - cpuBefore) / (System.nanoTime() - begun);
            report.add(path, measured, latency, throughput, cpuCores);
            Progress.print(String.format(
                    "%-14s %-6s p50 %.3f ms, %.0f msg/s",
                    measured.label(), path, ProxyReport.percentileMs(latency.rttNanos(), 0.5), throughput.perSecond()));
        } finally {
            load.closeAll();
        }
    }

    /**
     * Every path carries load once before anything is measured, so the gateway's data path is
     * compiled (its JIT otherwise competes with the first cases for the two cores); nginx and the
     * containers get the same.
     */
    private void warmUp(EchoLoad load, String path) throws Exception {
        deadline.check("warm-up via " + path);
        open(load, path, 100);
        try {
            load.throughput(64, 8, Duration.ofSeconds(1), WARM_UP);
            load.throughput(16 << 10, 4, Duration.ofSeconds(1), WARM_UP);
        } finally {
            load.closeAll();
        }
        Progress.print("warmed up " + path);
    }

    /** The proxy process on {@code path} (with its children), whose CPU use is reported; none for direct. */
    private ProcessHandle proxyProcess(String path) {
        return switch (path) {
            case "nginx" -> nginx.process();
            case "berth" -> ProcessHandle.of(gateway.process().pid()).orElse(null);
            default -> null;
        };
    }

    private void open(EchoLoad load, String path, int connections) throws Exception {
        switch (path) {
            case "direct" -> {
                List<String> addresses = echoes.addresses();
                for (int i = 0; i < addresses.size(); i++) {
                    int share = connections / addresses.size() + (i < connections % addresses.size() ? 1 : 0);
                    String[] hostPort = addresses.get(i).split(":");
                    if (share > 0) {
                        load.open(hostPort[0], Integer.parseInt(hostPort[1]), "/", share);
                    }
                }
            }
            case "nginx" -> load.open("127.0.0.1", nginx.port(), "/", connections);
            case "berth" -> load.open("127.0.0.1", berthPort, "/ws", connections);
            default -> throw new IllegalArgumentException(path);
        }
    }

    private void startGateway() throws Exception {
        report.gatewayCommand(FixedGateway.command("proxy"));
        gateway = FixedGateway.start(
                root,
                "proxy",
                stamp,
                echoes.addresses(),
                System.getenv("BERTH_BENCH_GATEWAY_JVM"),
                workDir.resolve("gateway.log"),
                deadline);
        berthPort = gateway.port();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public synchronized void cleanup() {
        if (gateway != null) {
            gateway.close();
            gateway = null;
        }
        if (nginx != null) {
            try {
                nginx.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            nginx = null;
        }
        if (echoes != null) {
            echoes.close();
            echoes = null;
        }
    }

    @Override
    public String report(Exception failure) {
        return report.markdown(failure);
    }
}
