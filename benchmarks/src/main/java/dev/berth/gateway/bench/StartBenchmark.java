package dev.berth.gateway.bench;

import dev.berth.gateway.OneNodeSwarm;
import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Session-start benchmark of the real gateway jar: client connect → the first frame from the session's own backend
 * (the handler's hello), broken into the gateway's start phases, per scenario. Run it with
 * {@code scripts/bench-start.sh}; the Markdown report goes to stdout and to {@code target/bench/start-<stamp>.md},
 * each scenario's gateway log to {@code target/bench/start-<stamp>-<scenario>.log}, progress to stderr.
 *
 * <p>Each scenario ({@link StartScenario}) gets a gateway process of its own with a config of its own
 * ({@code config/.bench-<stamp>-<scenario>.yaml}, a unique route {@code bench-<random8>}, sessions ended at
 * shutdown):
 *
 * <ol>
 *   <li>starts {@code java -Xmx512m -jar gateway/target/berth-gateway.jar --config <it> --port 0}; with a pool, waits
 *       until {@code berth_pool_idle} reaches the pool size;</li>
 *   <li>warm-up sessions (not counted), then the measured ones: each a brand-new client without cookie that connects,
 *       reads the hello, and closes with 1000 (the session ends, its backend is removed). Cold: one after another,
 *       each after the previous session has ended plus a short pause. Pool: one connect every {@code --pause-ms}
 *       (longer than a refill), {@code berth_pool_idle} read just before each. Burst: {@code --burst} clients at
 *       once, on a full pool, until {@code --sessions} are measured;</li>
 *   <li>reads the refill and claim metrics, SIGTERMs the gateway, removes whatever of its route is left (containers
 *       by their {@code berth.route} label, handler processes by the pids its log names), deletes the config; then
 *       joins each session's "started in" log line to its client by the session key of its hello.</li>
 * </ol>
 *
 * Before the run it waits, bounded, for the machine's load to settle. Every wait is bounded, and the run by
 * {@code --time-limit-s}; cleanup runs in a finally block and in a shutdown hook.
 */
public final class StartBenchmark implements Benchmark {

    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(40); // start 10s + ready 15s + slack
    private static final Duration POOL_FILL_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration SESSION_END_TIMEOUT = Duration.ofSeconds(20);
    private static final int MAX_FAILURES = 5;
    private static final int MIN_AUTO_PAUSE_MS = 500;

    private final StartOptions options;
    private final ZonedDateTime startedAt = ZonedDateTime.now();
    private final String stamp = startedAt.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    private final Path benchDir;
    private final Path reportFile;
    private final Vertx vertx = Vertx.vertx();
    private final StartEngine engine = new StartEngine();
    private final List<StartResult> results = new ArrayList<>();
    /** Every route and gateway of the run, for cleanup; guarded by this. */
    private final Map<StartRoute, Path> routes = new LinkedHashMap<>();

    private final List<GatewayProcess> gateways = new ArrayList<>();
    private final List<String> cleanupNotes = new ArrayList<>();
    private Deadline deadline;
    private String engineVersion = "?";
    private String loadBefore = "?";
    private String loadAfter = "?";
    private String loadWait = "";
    private boolean cleanedUp;

    private StartBenchmark(StartOptions options) {
        this.options = options;
        this.benchDir = options.root().resolve("target").resolve("bench");
        this.reportFile = benchDir.resolve("start-" + stamp + ".md");
    }

    public static void main(String[] args) throws Exception {
        StartOptions options;
        try {
            options = StartOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            throw e;
        }
        StartBenchmark bench = new StartBenchmark(options);
        Benchmark.runAndReport(bench, options.root(), bench.reportFile);
    }

    @Override
    public void run() throws Exception {
        Files.createDirectories(benchDir);
        engineVersion = engine.version();
        awaitQuietMachine();
        loadBefore = Host.loadAverage();
        deadline = new Deadline(options.timeLimit());
        List<String> failed = new ArrayList<>();
        if (options.scenarios().stream().anyMatch(StartScenario::swarm)) {
            OneNodeSwarm.join();
        }
        try {
            runScenarios(failed);
        } finally {
            OneNodeSwarm.leave();
        }
        if (!failed.isEmpty()) {
            throw new IllegalStateException("not every scenario completed: " + String.join("; ", failed));
        }
    }

    private void runScenarios(List<String> failed) {
        boolean timeUp = false;
        for (StartScenario scenario : options.scenarios()) {
            StartResult result = new StartResult(
                    scenario,
                    "?",
                    benchDir.resolve("start-" + stamp + "-" + scenario.flag() + ".log"),
                    Host.loadAverage());
            results.add(result);
            if (timeUp) {
                result.outcome = "skipped: the time limit was reached before it";
                continue;
            }
            long begun = System.nanoTime();
            long[] cpuBefore = cpuTicks();
            try {
                runScenario(scenario, result);
                int expected = scenario.arrivals ? StartArrivals.sessions(scenario, options) : options.sessions();
                result.outcome = result.samples.size() >= expected
                        ? "complete"
                        : "incomplete: " + result.samples.size() + " of " + expected + " sessions measured";
            } catch (TimeoutException e) {
                timeUp = true;
                result.outcome = "stopped by the time limit (" + e.getMessage() + ")";
            } catch (Exception e) {
                result.outcome = "FAILED: " + e;
                Progress.print(scenario.flag() + " FAILED: " + e);
            }
            result.seconds = (System.nanoTime() - begun) / 1e9;
            long[] cpuAfter = cpuTicks();
            if (cpuBefore != null && cpuAfter != null && cpuAfter[1] > cpuBefore[1]) {
                result.cpuBusy = (cpuAfter[0] - cpuBefore[0]) / (double) (cpuAfter[1] - cpuBefore[1]);
            }
            Progress.print(
                    "== " + scenario.flag() + ": " + result.outcome + " after " + Math.round(result.seconds) + " s");
            if (!result.outcome.equals("complete")) {
                failed.add(scenario.flag() + ": " + result.outcome);
            }
        }
    }

    /** Waits, for at most --load-wait-s, until the 1-minute load average is below --max-load. */
    private void awaitQuietMachine() throws InterruptedException {
        if (options.loadWaitS() == 0) {
            loadWait = "not waited for (--load-wait-s 0)";
            return;
        }
        long begun = System.nanoTime();
        long giveUp = begun + TimeUnit.SECONDS.toNanos(options.loadWaitS());
        double load = oneMinuteLoad();
        if (load >= options.maxLoad()) {
            Progress.print("1-minute load " + load + " ≥ " + options.maxLoad() + ": waiting up to "
                    + options.loadWaitS() + "s for it to fall");
        }
        while (load >= options.maxLoad() && System.nanoTime() < giveUp) {
            Thread.sleep(5000);
            load = oneMinuteLoad();
        }
        long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - begun);
        loadWait = load < options.maxLoad()
                ? String.format(
                        Locale.ROOT, "waited %d s for the 1-minute load to fall below %.1f", waited, options.maxLoad())
                : String.format(
                        Locale.ROOT,
                        "**the 1-minute load was still %.2f (≥ %.1f) after %d s; ran anyway**",
                        load,
                        options.maxLoad(),
                        waited);
        Progress.print(loadWait.replace("**", ""));
    }

    /** {busy, total} jiffies of all cores from /proc/stat (idle and iowait count as not busy); null if unreadable. */
    private static long[] cpuTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) { // user nice system idle iowait irq softirq steal
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (Exception e) {
            return null;
        }
    }

    private static double oneMinuteLoad() {
        try {
            return Double.parseDouble(Host.loadAverage().split(" ")[0]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void runScenario(StartScenario scenario, StartResult result) throws Exception {
        StartRoute route = scenario.arrivals
                ? shippedPoolRoute(scenario, result)
                : StartRoute.write(
                        options.root(),
                        stamp,
                        scenario,
                        scenario.pooled ? options.pool() : 0,
                        Math.max(100, options.burst() + options.pool() + 10));
        synchronized (this) {
            if (cleanedUp) {
                route.close();
                throw new IllegalStateException("the run is being stopped");
            }
            routes.put(route, result.logFile);
        }
        result.route = route.name;
        Progress.print("== " + scenario.flag() + ": " + scenario.description + " (route " + route.name + ", config "
                + options.root().relativize(route.config) + ")");
        GatewayProcess gateway = null;
        int port = -1;
        try {
            List<String> arguments = List.of(
                    "-Xmx512m",
                    "-jar",
                    "gateway/target/berth-gateway.jar",
                    "--config",
                    options.root().relativize(route.config).toString(),
                    "--port",
                    "0");
            long begun = System.nanoTime();
            gateway = GatewayProcess.start(options.root(), arguments, result.logFile, new GatewayLog(), deadline);
            synchronized (this) {
                gateways.add(gateway);
            }
            port = gateway.awaitListening();
            result.listeningMs = (System.nanoTime() - begun) / 1e6;
            long listening = System.nanoTime();
            Progress.print("gateway pid " + gateway.pid() + " listening on port " + port + " after "
                    + Math.round(result.listeningMs) + " ms");
            if (scenario.pooled) {
                if (awaitPool(port, route) == route.poolSize) {
                    result.initialFillMs = (System.nanoTime() - listening) / 1e6;
                    Progress.print("pool full (" + route.poolSize + ") " + Math.round(result.initialFillMs)
                            + " ms after listening");
                } else {
                    result.notes.add(
                            "the pool was not full " + POOL_FILL_TIMEOUT.toSeconds() + " s after the gateway listened");
                }
            }
            Sessions sessions = new Sessions(gateway, port, route, result);
            sessions.warmUp();
            if (scenario.arrivals) {
                awaitPool(port, route);
                StartArrivals arrivals = new StartArrivals(vertx, gateway, port, route, result, deadline);
                if (scenario == StartScenario.DOCKER_SPACED) {
                    arrivals.run(1, options.spaced(), options.spacedMs());
                } else {
                    arrivals.run(2, options.arrivals(), options.arrivalMs());
                }
                readPoolMetrics(port, route, result);
                return;
            }
            if (scenario.pooled) {
                choosePause(port, route, result);
                awaitPool(port, route);
            }
            if (scenario.burst) {
                sessions.bursts();
            } else {
                sessions.oneAfterAnother();
            }
            readPoolMetrics(port, route, result);
        } finally {
            if (gateway != null) {
                stopScenario(gateway, route, result);
            }
        }
    }

    /** A route with config/berth.yaml's own pool block: its floor, ceiling and decay, as the shipped config runs. */
    private StartRoute shippedPoolRoute(StartScenario scenario, StartResult result) throws Exception {
        RouteConfig.Pool pool = ConfigLoader.load(options.root().resolve("config/berth.yaml"))
                .routes()
                .get(0)
                .pool();
        result.poolYaml = "{min: " + pool.min() + ", max: " + pool.max() + ", decay: "
                + pool.decay().toSeconds() + "s}";
        int room = Math.max(100, 2 * options.arrivals() + pool.max() + 10);
        return StartRoute.write(options.root(), stamp, scenario, pool.min(), result.poolYaml, room);
    }

    /** Polls berth_pool_idle until the pool is full or {@link #POOL_FILL_TIMEOUT}; returns the last reading. */
    private int awaitPool(int port, StartRoute route) throws Exception {
        long giveUp = System.nanoTime() + deadline.boundedMillis(POOL_FILL_TIMEOUT) * 1_000_000;
        int idle = GatewayMetricsScrape.of(port).poolIdle(route.name);
        while (idle < route.poolSize && System.nanoTime() < giveUp) {
            Thread.sleep(50);
            idle = GatewayMetricsScrape.of(port).poolIdle(route.name);
        }
        return idle;
    }

    /** The pause between two pool sessions: --pause-ms, or (0) 1.5 x the slowest refill so far. */
    private void choosePause(int port, StartRoute route, StartResult result) throws Exception {
        double refillMaxS = GatewayMetricsScrape.of(port).value("berth_pool_refill_duration_seconds_max", route.name);
        String refill = Double.isNaN(refillMaxS) ? "?" : Math.round(refillMaxS * 1000) + " ms";
        if (options.pauseMs() > 0) {
            result.pauseMs = options.pauseMs();
            result.pauseSource = "--pause-ms; slowest refill before the measured sessions: " + refill;
            if (!Double.isNaN(refillMaxS) && refillMaxS * 1000 > options.pauseMs()) {
                result.notes.add("**--pause-ms " + options.pauseMs() + " is shorter than the slowest refill seen ("
                        + refill + "): sessions may arrive faster than the pool refills**");
            }
        } else {
            long auto = Double.isNaN(refillMaxS) ? 2500 : (long) Math.ceil(refillMaxS * 1500 / 100.0) * 100;
            result.pauseMs = (int) Math.max(MIN_AUTO_PAUSE_MS, auto);
            result.pauseSource = "automatic (--pause-ms 0): 1.5 x the slowest refill before the measured sessions ("
                    + refill + "), at least " + MIN_AUTO_PAUSE_MS + " ms";
        }
        Progress.print("pause between pool sessions: " + result.pauseMs + " ms (slowest refill so far " + refill + ")");
    }

    private void readPoolMetrics(int port, StartRoute route, StartResult result) {
        if (!result.scenario.pooled) {
            return;
        }
        try {
            GatewayMetricsScrape m = GatewayMetricsScrape.of(port);
            result.refillCount = m.value("berth_pool_refill_duration_seconds_count", route.name);
            result.refillSumS = m.value("berth_pool_refill_duration_seconds_sum", route.name);
            result.refillMaxS = m.value("berth_pool_refill_duration_seconds_max", route.name);
            result.claimHits = m.value("berth_pool_claims_total", route.name, "outcome=hit");
            result.claimEmpty = m.value("berth_pool_claims_total", route.name, "outcome=empty");
        } catch (Exception e) {
            result.notes.add("could not read /metrics at the end: " + e);
        }
    }

    /** SIGTERMs the scenario's gateway, removes what it left, deletes the config and reads the gateway's log. */
    private void stopScenario(GatewayProcess gateway, StartRoute route, StartResult result) {
        result.stopNotes.addAll(gateway.stop());
        result.log = StartLog.read(result.logFile);
        result.stopNotes.addAll(removeLeftovers(route, result.log));
        try {
            route.close();
        } catch (Exception e) {
            result.stopNotes.add("could not delete " + route.config + ": " + e);
        }
        Progress.print(result.scenario.flag() + ": gateway stopped; " + String.join("; ", result.stopNotes));
    }

    /** Containers of the route (by label) and handler processes the log names that outlived the gateway. */
    private List<String> removeLeftovers(StartRoute route, StartLog log) {
        List<String> notes = new ArrayList<>();
        if (!route.scenario.launcher.equals("process")) {
            try {
                List<String> left = engine.removeAll(route.name);
                notes.add(
                        left.isEmpty()
                                ? "no container of route " + route.name + " left"
                                : "**" + left.size() + " container(s) of route " + route.name
                                        + " were left after the gateway exited;" + " the benchmark removed them**: "
                                        + String.join(" ", left));
            } catch (RuntimeException e) {
                notes.add("could not check the engine for containers of route " + route.name + ": " + e);
            }
        } else {
            int killed = 0;
            for (long pid : log.processes) {
                OptionalHandler handler = OptionalHandler.of(pid);
                if (handler != null) {
                    handler.process().destroyForcibly();
                    killed++;
                }
            }
            notes.add(
                    killed == 0
                            ? "no handler process of this gateway left (" + log.processes.size() + " started)"
                            : "**" + killed
                                    + " handler process(es) were left after the gateway exited; the benchmark killed them**");
        }
        return notes;
    }

    /** A live handler process: its command runs berth-handler.jar. */
    private record OptionalHandler(ProcessHandle process) {
        static OptionalHandler of(long pid) {
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().commandLine().orElse("").contains("berth-handler.jar"))
                    .map(OptionalHandler::new)
                    .orElse(null);
        }
    }

    /** The clients of one scenario. */
    private final class Sessions {

        private final GatewayProcess gateway;
        private final int port;
        private final StartRoute route;
        private final StartResult result;

        Sessions(GatewayProcess gateway, int port, StartRoute route, StartResult result) {
            this.gateway = gateway;
            this.port = port;
            this.route = route;
            this.result = result;
        }

        void warmUp() throws Exception {
            for (int i = 0; i < options.warmup(); i++) {
                if (i > 0) {
                    awaitNoSession();
                    Thread.sleep(options.coldPauseMs());
                }
                Opened opened = open(idle());
                Progress.print(result.scenario.flag() + " warm-up " + (i + 1) + "/" + options.warmup()
                        + ": hello after " + Math.round(opened.client.helloMillis()) + " ms");
                opened.client.close().await(10, TimeUnit.SECONDS);
                result.warmups++;
            }
            awaitNoSession();
        }

        /** Cold: each after the previous session ended, plus --cold-pause-ms. Pool: one connect every pause. */
        void oneAfterAnother() throws Exception {
            boolean pooled = result.scenario.pooled;
            long nextAt = System.nanoTime();
            for (int i = 1; i <= options.sessions(); i++) {
                deadline.check(result.scenario.flag() + " session " + i);
                if (pooled) {
                    long wait = (nextAt - System.nanoTime()) / 1_000_000;
                    if (wait > 0) {
                        Thread.sleep(Math.min(wait, deadline.boundedMillis(Duration.ofMillis(wait))));
                    }
                    nextAt = System.nanoTime() + result.pauseMs * 1_000_000L;
                } else if (i > 1) {
                    awaitNoSession();
                    Thread.sleep(options.coldPauseMs());
                }
                int idle = idle();
                try {
                    Opened opened = open(idle);
                    StartResult.Sample sample = measured(i, 0, opened);
                    opened.client.close().await(10, TimeUnit.SECONDS);
                    Progress.print(String.format(
                            Locale.ROOT,
                            "%s %d/%d: 101 after %.1f ms, hello after %.1f ms%s",
                            result.scenario.flag(),
                            i,
                            options.sessions(),
                            sample.upgradeMs(),
                            sample.helloMs(),
                            pooled ? " (pool idle before: " + idle + ")" : ""));
                } catch (TimeoutException e) {
                    deadline.check(result.scenario.flag() + " session " + i);
                    failed("session " + i + ": " + e);
                } catch (Exception e) {
                    failed("session " + i + ": " + e);
                }
            }
        }

        /** Bursts of --burst clients at once, each on a full pool with no session left, until --sessions are measured. */
        void bursts() throws Exception {
            int rounds = (options.sessions() + options.burst() - 1) / options.burst();
            int index = 0;
            for (int r = 1; r <= rounds; r++) {
                deadline.check(result.scenario.flag() + " burst " + r);
                awaitNoSession();
                int idle = awaitPool(port, route);
                int size = Math.min(options.burst(), options.sessions() - index);
                List<BenchClient> clients = new ArrayList<>();
                List<Future<JsonObject>> hellos = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    BenchClient client = new BenchClient(vertx);
                    clients.add(client);
                    hellos.add(client.open(port, SESSION_TIMEOUT));
                }
                try {
                    Future.join(hellos)
                            .await(deadline.boundedMillis(SESSION_TIMEOUT.plusSeconds(5)), TimeUnit.MILLISECONDS);
                } catch (Exception someFailed) {
                    // each one is looked at below
                }
                int ok = 0;
                for (int i = 0; i < size; i++) {
                    Future<JsonObject> hello = hellos.get(i);
                    if (hello.succeeded()) {
                        result.samples.add(StartResult.Sample.of(
                                index + i + 1, r, hello.result().getString("session", ""), idle, clients.get(i)));
                        ok++;
                    } else {
                        failed("burst " + r + " session " + (i + 1) + ": " + hello.cause());
                    }
                }
                index += size;
                List<Future<Void>> closing = new ArrayList<>();
                clients.forEach(c -> closing.add(c.close()));
                Future.join(closing).await(30, TimeUnit.SECONDS);
                result.bursts++;
                Progress.print(String.format(
                        Locale.ROOT,
                        "%s burst %d/%d: %d of %d got their hello (pool idle before: %d);" + " slowest %.0f ms",
                        result.scenario.flag(),
                        r,
                        rounds,
                        ok,
                        size,
                        idle,
                        clients.stream()
                                .mapToDouble(BenchClient::helloMillis)
                                .filter(ms -> ms > 0)
                                .max()
                                .orElse(-1)));
            }
        }

        private record Opened(BenchClient client, String key, int idleBefore) {}

        private Opened open(int idleBefore) throws Exception {
            BenchClient client = new BenchClient(vertx);
            try {
                JsonObject hello = client.open(port, SESSION_TIMEOUT)
                        .await(deadline.boundedMillis(SESSION_TIMEOUT.plusSeconds(5)), TimeUnit.MILLISECONDS);
                return new Opened(client, hello.getString("session", ""), idleBefore);
            } catch (Exception e) {
                client.close();
                throw e;
            }
        }

        /** Records a measured session; for docker-cold, reads the handler's start from its container log first. */
        private StartResult.Sample measured(int index, int burst, Opened opened) {
            long handlerStart = -1;
            double handlerLogMs = -1;
            if (result.scenario.docker() && !result.scenario.pooled) {
                long begun = System.nanoTime();
                OptionalLong ms = engine.handlerStartMs("berth-" + route.name + "-" + opened.key);
                handlerLogMs = (System.nanoTime() - begun) / 1e6;
                handlerStart = ms.orElse(-1);
            }
            StartResult.Sample sample = new StartResult.Sample(
                    index,
                    burst,
                    opened.key,
                    opened.idleBefore,
                    opened.client.upgradeMillis(),
                    opened.client.helloMillis(),
                    handlerStart,
                    handlerLogMs);
            result.samples.add(sample);
            return sample;
        }

        private int idle() {
            if (!result.scenario.pooled) {
                return -1;
            }
            try {
                return GatewayMetricsScrape.of(port).poolIdle(route.name);
            } catch (Exception e) {
                return -1;
            }
        }

        /** Waits until the gateway holds no session (the previous one ended and its backend was stopped). */
        private void awaitNoSession() throws Exception {
            int left = gateway.awaitSessions(0, Duration.ofMillis(deadline.boundedMillis(SESSION_END_TIMEOUT)));
            if (left != 0) {
                result.notes.add(left + " session(s) still held " + SESSION_END_TIMEOUT.toSeconds()
                        + " s after their clients closed with 1000");
            }
        }

        private void failed(String failure) {
            result.failures.add(failure);
            Progress.print(result.scenario.flag() + " FAILED " + failure);
            if (result.failures.size() > MAX_FAILURES) {
                throw new IllegalStateException(
                        result.failures.size() + " sessions failed; first: " + result.failures.get(0));
            }
        }
    }

    /** Stops whatever gateway still runs, removes every route's containers and handlers, deletes the configs. */
    @Override
    public synchronized void cleanup() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        for (GatewayProcess gateway : gateways) {
            if (gateway.isAlive()) {
                cleanupNotes.add("a gateway (pid " + gateway.pid() + ") was still running; stopping it");
                cleanupNotes.addAll(gateway.stop());
            }
        }
        for (Map.Entry<StartRoute, Path> entry : routes.entrySet()) {
            StartRoute route = entry.getKey();
            StartLog log = StartLog.read(entry.getValue());
            List<String> notes = removeLeftovers(route, log);
            notes.stream().filter(n -> n.startsWith("**")).forEach(cleanupNotes::add);
            try {
                route.close();
            } catch (Exception e) {
                cleanupNotes.add("could not delete " + route.config + ": " + e);
            }
        }
        engine.close();
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // nothing left to do
        }
        loadAfter = Host.loadAverage();
    }

    @Override
    public String report(Exception failure) {
        StartReport report = new StartReport(options);
        report.header(startedAt, loadBefore, loadAfter, loadWait, engineVersion);
        if (failure != null) {
            report.failure(failure);
        }
        report.targets(results);
        report.legend();
        results.forEach(report::scenario);
        report.cleanup(cleanupNotes);
        return report.text();
    }
}
