package dev.berth.gateway.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * What an idle proxied session costs the gateway: N websockets held open through the gateway jar
 * ({@code launcher: fixed}, so each is a session of its own with its own backend websocket) to
 * cheap in-JVM echo backends, and the gateway's heap after full GCs, its RSS and its class
 * histogram, warmed up with no session and again with N, per session. Run it with
 * {@code scripts/bench-memory.sh}; the report goes to docs/benchmarks/memory.md.
 */
public final class IdleMemoryBenchmark implements Benchmark {

    private static final String USAGE = """
      usage: IdleMemoryBenchmark [--sessions N] [--time-limit-s T]
        --sessions N      idle sessions held at once (default 9000; each costs the gateway two sockets,
                          and this machine allows a process 20,000 open files)
        --time-limit-s T  the whole run stops after this many seconds (default 600)""";
    private static final int BACKEND_PORTS = 4;
    private static final int CONNECT_AT_ONCE = 200;
    private static final int WARM_UP_SESSIONS = 500;

    private final Path root;
    private final int sessions;
    private final Deadline deadline;
    private final String stamp = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    private final Path workDir;
    private final Vertx backends = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final Vertx clients = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final WebSocketClient client = clients.createWebSocketClient(
            new WebSocketClientOptions().setMaxConnections(100_000).setConnectTimeout(30_000));
    private final List<WebSocket> open = new ArrayList<>();
    private final List<MemorySample> samples = new ArrayList<>();
    private BenchGateway gateway;
    private int port;

    private IdleMemoryBenchmark(CommandLine line) {
        this.root = line.repositoryRoot();
        this.sessions = line.number("--sessions", 9000, 1, 9500);
        this.deadline = new Deadline(Duration.ofSeconds(line.number("--time-limit-s", 600, 60, 3600)));
        this.workDir = root.resolve("target/bench/memory-" + stamp);
    }

    public static void main(String[] args) throws Exception {
        CommandLine line;
        try {
            line = CommandLine.parse(args, Set.of("--sessions", "--time-limit-s"), USAGE);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(64);
            return;
        }
        IdleMemoryBenchmark bench = new IdleMemoryBenchmark(line);
        Files.createDirectories(bench.workDir);
        Benchmark.runAndReport(bench, bench.root, bench.workDir.resolve("memory.md"));
        Files.copy(
                bench.workDir.resolve("memory.md"),
                bench.root.resolve("docs/benchmarks/memory.md"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Progress.print("docs/benchmarks/memory.md updated");
        System.exit(0);
    }

    @Override
    public void run() throws Exception {
        List<String> echoes = new ArrayList<>();
        for (int i = 0; i < BACKEND_PORTS; i++) {
            HttpServer echo = backends.createHttpServer()
                    .webSocketHandler(socket -> socket.handler(socket::write))
                    .listen(0, "127.0.0.1")
                    .await(10, TimeUnit.SECONDS);
            echoes.add("127.0.0.1:" + echo.actualPort());
        }
        gateway = BenchGateway.fixed(root, "memory", stamp, echoes, "", workDir.resolve("gateway.log"), deadline);
        port = gateway.port();
        samples.add(MemorySample.take(gateway.process(), MemorySample.FRESH));
        openSessions(WARM_UP_SESSIONS);
        closeAll();
        gateway.process().awaitSessions(0, Duration.ofSeconds(60));
        samples.add(MemorySample.take(gateway.process(), MemorySample.WARMED_UP));
        openSessions(sessions);
        int held = gateway.process().awaitSessions(sessions, Duration.ofSeconds(120));
        if (held != sessions) {
            throw new IllegalStateException("the gateway holds " + held + " sessions, not " + sessions);
        }
        samples.add(MemorySample.take(gateway.process(), sessions + " idle sessions"));
    }

    private void openSessions(int count) throws Exception {
        for (int begun = 0; begun < count; begun += CONNECT_AT_ONCE) {
            deadline.check("opening sessions");
            List<Future<WebSocket>> batch = new ArrayList<>();
            for (int i = begun; i < Math.min(count, begun + CONNECT_AT_ONCE); i++) {
                batch.add(client.connect(new WebSocketConnectOptions()
                        .setHost("127.0.0.1")
                        .setPort(port)
                        .setURI("/ws")));
            }
            for (Future<WebSocket> connected : batch) {
                open.add(connected.await(60, TimeUnit.SECONDS));
            }
        }
        Progress.print(open.size() + " sessions open");
    }

    private void closeAll() throws Exception {
        List<Future<Void>> closing = new ArrayList<>();
        for (WebSocket socket : open) {
            closing.add(socket.close((short) 1000, "bench done"));
        }
        Future.join(closing).await(60, TimeUnit.SECONDS);
        open.clear();
    }

    @Override
    public synchronized void cleanup() {
        if (gateway != null) {
            gateway.close();
            gateway = null;
        }
        clients.close();
        backends.close();
    }

    @Override
    public String report(Exception failure) {
        StringBuilder out = new StringBuilder("# Benchmark: gateway memory per idle proxied session\n\n");
        if (failure != null) {
            out.append("**The run failed:** ").append(failure).append("\n\n");
        }
        out.append("- Date: ")
                .append(stamp)
                .append("; machine: ")
                .append(Host.describe())
                .append("\n");
        out.append("- Gateway: `" + BenchGateway.command("memory") + "`, `launcher: fixed`: each client a"
                        + " session of its own with its own backend websocket, to in-JVM echo servers (")
                .append(BACKEND_PORTS)
                .append(" ports) in the benchmark's JVM; the clients send nothing after the handshake\n");
        out.append("- Each reading after two full GCs (`jcmd GC.run`), heap from `GC.heap_info`, RSS from /proc,"
                + " live objects from `GC.class_histogram`\n");
        out.append("- Rerun: `scripts/bench-memory.sh --sessions ")
                .append(sessions)
                .append("`\n\n");
        out.append("| reading | sessions | heap used MiB | live objects MiB | RSS MiB |\n|---|---:|---:|---:|---:|\n");
        for (MemorySample s : samples) {
            out.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %.1f | %.1f | %.1f |%n",
                    s.label(),
                    s.sessions(),
                    s.heapUsedK() / 1024.0,
                    s.liveBytes() / 1048576.0,
                    s.rssK() / 1024.0));
        }
        if (samples.size() == 3) {
            MemorySample base = samples.get(1);
            MemorySample full = samples.get(2);
            int n = full.sessions();
            out.append(String.format(
                    Locale.ROOT,
                    "%n**Per idle session: %.1f KiB of heap (live objects %.1f KiB), %.1f KiB"
                            + " of RSS** (target: ≤ 10 KiB of heap, ≤ 40 KiB of RSS).%n%n",
                    (full.heapUsedK() - base.heapUsedK()) / (double) n,
                    (full.liveBytes() - base.liveBytes()) / 1024.0 / n,
                    (full.rssK() - base.rssK()) / (double) n));
            out.append("Where the heap goes: the classes that grew most, per session (live instances and bytes).\n\n");
            out.append("| class | instances per session | bytes per session |\n|---|---:|---:|\n");
            Map<String, long[]> before = base.histogram();
            List<Map.Entry<String, long[]>> grown = full.histogram().entrySet().stream()
                    .sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) ->
                            -(e.getValue()[1] - before.getOrDefault(e.getKey(), new long[2])[1])))
                    .limit(15)
                    .collect(Collectors.toList());
            for (Map.Entry<String, long[]> e : grown) {
                long[] was = before.getOrDefault(e.getKey(), new long[2]);
                out.append(String.format(
                        Locale.ROOT,
                        "| `%s` | %.1f | %.0f |%n",
                        e.getKey(),
                        (e.getValue()[0] - was[0]) / (double) n,
                        (e.getValue()[1] - was[1]) / (double) n));
            }
            out.append("\nThe same growth by whose classes they are (arrays, strings and collections are the JDK's,"
                    + " whoever holds them: Netty's queue chunks are `[Ljava.lang.Object;`).\n\n");
            out.append("| classes of | bytes per session |\n|---|---:|\n");
            Map<String, Long> byOwner = new java.util.TreeMap<>();
            full.histogram()
                    .forEach((name, now) ->
                            byOwner.merge(owner(name), now[1] - before.getOrDefault(name, new long[2])[1], Long::sum));
            byOwner.forEach((owner, bytes) ->
                    out.append(String.format(Locale.ROOT, "| %s | %.0f |%n", owner, bytes / (double) n)));
        }
        return out.toString();
    }

    private static String owner(String className) {
        if (className.startsWith("dev.berth.")) {
            return "Berth";
        }
        if (className.startsWith("io.vertx.")) {
            return "Vert.x";
        }
        if (className.startsWith("io.netty.")) {
            return "Netty";
        }
        return "JDK (arrays, strings, collections, lambdas)";
    }
}
