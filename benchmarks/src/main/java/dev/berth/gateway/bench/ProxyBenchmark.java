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
 * The data path side by side: the same echo containers reached directly, through nginx ({@link
 * NginxProxy}) and through Berth, by the same clients ({@link EchoLoad}), in interleaved rounds
 * (the order of the three paths rotates each round). Two shapes of traffic:
 *
 * <ul>
 *   <li><b>shared</b>: a few echo containers ({@link EchoContainers}) and many connections, binary
 *       messages; Berth with {@code launcher: fixed} (every client a session of its own, piped to
 *       those containers in turn), nginx round robin over them;
 *   <li><b>sessions</b>, the shape users have most: a handful of sessions, each its own container
 *       launched by Berth ({@code launcher: docker}), one closed-loop connection per session that
 *       leaves (1001) and comes back with its cookie between measurements, text and binary
 *       messages; nginx has one location per container, direct dials the container.
 * </ul>
 *
 * For each case: round trips at a fixed rate (p50, p99, p999) and the maximum throughput. The
 * report ({@link ProxyReport}) gives medians over the rounds and the ratios, which are the result
 * on a shared, noisy machine. Run it with {@code scripts/bench-proxy.sh}; bounded by {@code
 * --time-limit-s}, and everything it starts is stopped in a finally block and a shutdown hook.
 */
public final class ProxyBenchmark implements Benchmark {

    static final List<String> PATHS = List.of("direct", "nginx", "berth", "netty");
    private static final String USAGE = """
      usage: ProxyBenchmark [--shape shared|sessions|both] [--rounds R] [--backends K] [--sessions N] [--seconds S]
                            [--max-connections N] [--max-size B] [--time-limit-s T]
        --shape              which shape of traffic (default both)
        --rounds R           interleaved rounds of every case (default 2)
        --backends K         echo containers of the shared shape (default 4)
        --sessions N         sessions (each its own container) of the sessions shape (default 6)
        --seconds S          each measurement's length (default 3)
        --max-connections N  leave out cases with more connections (default 1000)
        --max-size B         leave out cases with larger messages (default 1048576)
        --time-limit-s T     the whole run stops after this many seconds (default 2400)""";

    /** Echo containers shared by many connections, or each session its own container. */
    enum Shape {
        SHARED,
        SESSIONS
    }

    /**
     * One measured case: a shape, a message size and kind, a connection count, with its fixed rate
     * and throughput window.
     */
    record Case(Shape shape, int size, boolean text, int connections, int perSecond, int window) {
        String label() {
            return shape == Shape.SHARED
                    ? ProxyReport.size(size) + " × " + connections
                    : ProxyReport.size(size) + (text ? " text" : " binary") + ", " + connections + " sessions";
        }
    }

    private static final Duration WARM_UP = Duration.ofSeconds(4);
    private final Path root;
    private final int rounds;
    private final int backends;
    private final int sessions;
    private final Duration measure;
    private final Deadline deadline;
    private final String stamp = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    private final Path workDir;
    private final List<Case> cases = new ArrayList<>();
    private final ProxyReport report;
    private EchoContainers echoes;
    private NginxProxy nginx;
    private Process nettyRelay;
    private int nettyPort;
    private BenchGateway gateway;
    private BenchGateway sessionGateway;
    private final List<EchoLoad.Target> berthSessions = new ArrayList<>();
    private final List<String> sessionContainers = new ArrayList<>();

    private ProxyBenchmark(CommandLine line) {
        this.root = line.repositoryRoot();
        this.rounds = line.number("--rounds", 2, 1, 20);
        this.backends = line.number("--backends", 4, 1, 64);
        this.sessions = line.number("--sessions", 6, 1, 64);
        String shape = line.choice("--shape", "both", Set.of("shared", "sessions", "both"));
        this.measure = Duration.ofSeconds(line.number("--seconds", 3, 1, 60));
        this.deadline = new Deadline(Duration.ofSeconds(line.number("--time-limit-s", 2400, 60, 7200)));
        int maxConnections = line.number("--max-connections", 1000, 1, 1000);
        int maxSize = line.number("--max-size", 1 << 20, 64, 1 << 20);
        this.workDir = root.resolve("target/bench/proxy-" + stamp);
        if (!shape.equals("shared")) {
            for (int size : new int[] {64, 16 << 10}) {
                if (size <= maxSize) {
                    for (boolean text : new boolean[] {true, false}) {
                        cases.add(new Case(Shape.SESSIONS, size, text, sessions, 500, 1));
                    }
                }
            }
        }
        for (int connections : new int[] {1, 100, 1000}) {
            if (shape.equals("sessions") || connections > maxConnections) {
                continue;
            }
            // One connection can carry one message a millisecond (the sender's tick) at most.
            cases.add(new Case(Shape.SHARED, 64, false, connections, connections == 1 ? 500 : 2000, 8));
            if (maxSize >= 16 << 10) {
                cases.add(new Case(Shape.SHARED, 16 << 10, false, connections, connections == 1 ? 500 : 1000, 4));
            }
            if (connections <= 100
                    && maxSize >= 1 << 20) { // 1,000 × 1 MiB in flight would measure memory, not the path
                cases.add(new Case(Shape.SHARED, 1 << 20, false, connections, 20, 1));
            }
        }
        this.report = new ProxyReport(
                cases,
                rounds,
                measure,
                backends,
                sessions,
                "scripts/bench-proxy.sh --shape " + shape + " --rounds " + rounds + " --backends " + backends
                        + " --sessions " + sessions + " --seconds " + measure.toSeconds() + " --max-connections "
                        + maxConnections + " --max-size " + maxSize);
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        CommandLine line;
        try {
            line = CommandLine.parse(
                    args,
                    Set.of(
                            "--shape",
                            "--rounds",
                            "--backends",
                            "--sessions",
                            "--seconds",
                            "--max-connections",
                            "--max-size",
                            "--time-limit-s"),
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
        report.gatewayCommand(BenchGateway.command("proxy"));
        gateway = BenchGateway.fixed(
                root,
                "proxy",
                stamp,
                echoes.addresses(),
                System.getenv("BERTH_BENCH_GATEWAY_JVM"),
                workDir.resolve("gateway.log"),
                deadline);
        try (EchoLoad load = new EchoLoad()) {
            if (cases.stream().anyMatch(c -> c.shape() == Shape.SESSIONS)) {
                startSessions(load);
            }
            nginx = NginxProxy.start(workDir.resolve("nginx"), echoes.addresses(), sessionContainers, freePort());
            startNettyRelay();
            for (Shape shape : Shape.values()) {
                if (cases.stream().anyMatch(c -> c.shape() == shape)) {
                    for (String path : PATHS) {
                        warmUp(load, path, shape);
                    }
                }
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

    /**
     * Starts the sessions shape's gateway and its sessions, each in its own container, as browsers
     * would (see {@link EchoLoad#startSession}), and finds each session's container on the engine
     * by its key, for the direct and nginx paths.
     */
    private void startSessions(EchoLoad load) throws Exception {
        sessionGateway = BenchGateway.perSession(
                root,
                "sessions",
                stamp,
                BenchRoute.IMAGE,
                System.getenv("BERTH_BENCH_GATEWAY_JVM"),
                workDir.resolve("gateway-sessions.log"),
                deadline);
        for (int i = 0; i < sessions; i++) {
            EchoLoad.Session session = load.startSession("127.0.0.1", sessionGateway.port(), "/ws");
            berthSessions.add(
                    new EchoLoad.Target("127.0.0.1", sessionGateway.port(), "/ws", "berth_session=" + session.token()));
            sessionContainers.add(containerAddress(session.key()));
        }
        Progress.print(sessions + " sessions, each in its own container: " + sessionContainers);
    }

    /** The bare Netty relay ({@link NettyRelay}) in a JVM of its own, to the same containers as nginx. */
    private void startNettyRelay() throws Exception {
        nettyPort = freePort();
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx1g",
                "-cp",
                System.getProperty("java.class.path"),
                NettyRelay.class.getName(),
                String.valueOf(nettyPort),
                echoes.addresses().isEmpty() ? "-" : String.join(",", echoes.addresses()),
                sessionContainers.isEmpty() ? "-" : String.join(",", sessionContainers)));
        nettyRelay = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve("netty-relay.log").toFile())
                .start();
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!java.nio.file.Files.readString(workDir.resolve("netty-relay.log"))
                .contains("listening")) {
            if (!nettyRelay.isAlive() || System.nanoTime() > until) {
                throw new IllegalStateException(
                        "the Netty relay did not start; see " + workDir.resolve("netty-relay.log"));
            }
            Thread.sleep(50);
        }
    }

    /** host:port of the container that serves the session {@code key} (the handler's port, 8080). */
    private static String containerAddress(String key) throws Exception {
        String id = EchoContainers.docker("ps", "-q", "--filter", "label=berth.session=" + key)
                .trim();
        String ip = EchoContainers.docker(
                        "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id)
                .trim();
        if (id.isEmpty() || ip.isEmpty()) {
            throw new IllegalStateException("no running container with an address for session " + key);
        }
        return ip + ":8080";
    }

    private void measure(EchoLoad load, String path, Case measured) throws Exception {
        open(load, path, measured.shape(), measured.connections());
        try {
            EchoLoad.Latency latency = load.latency(measured.size(), measured.text(), measured.perSecond(), measure);
            ProcessHandle proxy = proxyProcess(path, measured.shape());
            long cpuBefore = proxy == null ? 0 : ProcessCpu.nanos(proxy);
            long begun = System.nanoTime();
            EchoLoad.Throughput throughput = load.throughput(
                    measured.size(), measured.text(), measured.window(), Duration.ofSeconds(1), measure);
            double cpuCores = proxy == null
                    ? Double.NaN
                    : (double) (ProcessCpu.nanos(proxy) - cpuBefore) / (System.nanoTime() - begun);
            report.add(path, measured, latency, throughput, cpuCores);
            Progress.print(String.format(
                    "%-26s %-6s p50 %.3f ms, %.0f msg/s",
                    measured.label(), path, ProxyReport.percentileMs(latency.rttNanos(), 0.5), throughput.perSecond()));
        } finally {
            load.closeAll(1001); // a Berth session stays for its client's return
        }
    }

    /**
     * Every path carries load once before anything is measured, so the gateway's data path is
     * compiled (its JIT otherwise competes with the first cases for the two cores); nginx and the
     * containers get the same.
     */
    private void warmUp(EchoLoad load, String path, Shape shape) throws Exception {
        deadline.check("warm-up via " + path);
        open(load, path, shape, shape == Shape.SHARED ? 100 : sessions);
        try {
            for (boolean text : shape == Shape.SHARED ? new boolean[] {false} : new boolean[] {false, true}) {
                load.throughput(64, text, 8, Duration.ofSeconds(1), WARM_UP);
                load.throughput(16 << 10, text, 4, Duration.ofSeconds(1), WARM_UP);
            }
        } finally {
            load.closeAll(1001);
        }
        Progress.print("warmed up " + path + " (" + shape.name().toLowerCase(java.util.Locale.ROOT) + ")");
    }

    /** The proxy process on {@code path} (with its children), whose CPU use is reported; none for direct. */
    private ProcessHandle proxyProcess(String path, Shape shape) {
        BenchGateway berth = shape == Shape.SHARED ? gateway : sessionGateway;
        return switch (path) {
            case "nginx" -> nginx.process();
            case "berth" -> ProcessHandle.of(berth.process().pid()).orElse(null);
            case "netty" -> nettyRelay.toHandle();
            default -> null;
        };
    }

    private void open(EchoLoad load, String path, Shape shape, int connections) throws Exception {
        if (shape == Shape.SESSIONS) {
            load.open(sessionTargets(path));
            return;
        }
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
            case "berth" -> load.open("127.0.0.1", gateway.port(), "/ws", connections);
            case "netty" -> load.open("127.0.0.1", nettyPort, "/", connections);
            default -> throw new IllegalArgumentException(path);
        }
    }

    /** One connection per session: to its container, to its nginx location, or to Berth with its cookie. */
    private List<EchoLoad.Target> sessionTargets(String path) {
        if (path.equals("berth")) {
            return berthSessions;
        }
        List<EchoLoad.Target> targets = new ArrayList<>();
        for (int i = 0; i < sessionContainers.size(); i++) {
            String[] hostPort = sessionContainers.get(i).split(":");
            targets.add(
                    switch (path) {
                        case "direct" -> new EchoLoad.Target(hostPort[0], Integer.parseInt(hostPort[1]), "/", null);
                        case "nginx" -> new EchoLoad.Target("127.0.0.1", nginx.port(), NginxProxy.sessionPath(i), null);
                        default -> new EchoLoad.Target("127.0.0.1", nettyPort, NginxProxy.sessionPath(i), null);
                    });
        }
        return targets;
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Override
    public synchronized void cleanup() {
        if (nettyRelay != null) {
            nettyRelay.destroyForcibly();
            nettyRelay = null;
        }
        if (sessionGateway != null) { // onShutdown: end removes the sessions' containers
            sessionGateway.close();
            sessionGateway = null;
        }
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
