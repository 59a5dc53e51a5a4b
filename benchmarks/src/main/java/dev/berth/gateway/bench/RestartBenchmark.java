package dev.berth.gateway.bench;

import dev.berth.gateway.bench.ReturningClients.Comeback;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Restart benchmark of the real gateway jar on the real Docker engine: how long streaming sessions are without their
 * gateway when it is killed and started again. Run it with {@code scripts/bench-restart.sh [--sessions N]
 * [--rounds R]}; the Markdown report goes to stdout and to {@code target/bench/restart-<timestamp>.md}, each
 * gateway's log to {@code target/bench/restart-<timestamp>-gateway-<n>.log}, progress to stderr.
 *
 * <ol>
 *   <li>writes a temporary config with a route of its own ({@code bench-<random8>}, docker launcher,
 *       {@code sessions.onShutdown: keep}) and starts {@code java -Xmx512m -jar gateway/target/berth-gateway.jar
 *       --config <it> --port 0};</li>
 *   <li>opens N sessions, a few at a time; each client sends a count of frames of its own and streams its feed;</li>
 *   <li>each round: SIGKILLs the gateway, checks every client dropped and every container still runs, starts the
 *       jar again on the same port and measures (a) process start → /health answers, (b) /health → every session
 *       registered (re-adopted) and piped, (c) /health → each client, all reconnecting at once with their cookie,
 *       has its hello (own key, one more connection) and its state (own frame count) back;</li>
 *   <li>stop: closes every client normally (its container is removed), SIGTERMs the gateway, removes whatever of
 *       the route is left and deletes the config.</li>
 * </ol>
 *
 * Every wait is bounded, and the whole run by {@code --time-limit-s}. Cleanup runs in a finally block and in a
 * shutdown hook, so an interrupted run still stops the gateway and removes its containers.
 */
public final class RestartBenchmark implements Benchmark {

    /** The sessions' grace: long enough for any round's downtime, so no session is lost to it. */
    private static final Duration GRACE = Duration.ofSeconds(120);

    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration ADOPTION_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PORT_BUSY_RETRY = Duration.ofSeconds(15);
    private static final Pattern ADOPTED =
            Pattern.compile("adopted (\\d+) running session\\(s\\) from the engine in (\\d+)ms");

    private final RestartOptions options;
    private final ZonedDateTime startedAt = ZonedDateTime.now();
    private final Path benchDir;
    private final String stamp;
    private final Path reportFile;
    private final Deadline deadline;
    private final Vertx vertx = Vertx.vertx();
    private final ReturningClients clients;
    private final List<RestartRound> rounds = new ArrayList<>();
    private final List<Path> logFiles = new ArrayList<>();
    /** Every gateway process started, so that cleanup stops one that was starting when the run was interrupted. */
    private final List<GatewayProcess> started = new ArrayList<>(); // guarded by this

    private final List<String> stopNotes = new ArrayList<>();
    private BenchRoute route;
    private GatewayProcess gateway;
    private String engineVersion = "?";
    private double openSeconds = -1;
    private int opened;
    private String loadBefore;
    private String loadAfter;
    private boolean cleanedUp;

    private RestartBenchmark(RestartOptions options) {
        this.options = options;
        this.benchDir = options.root().resolve("target").resolve("bench");
        this.stamp = startedAt.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        this.reportFile = benchDir.resolve("restart-" + stamp + ".md");
        this.deadline = new Deadline(options.timeLimit());
        this.clients = new ReturningClients(vertx, options, deadline);
    }

    public static void main(String[] args) throws Exception {
        RestartOptions options;
        try {
            options = RestartOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            throw e;
        }
        RestartBenchmark bench = new RestartBenchmark(options);
        Benchmark.runAndReport(bench, options.root(), bench.reportFile);
    }

    @Override
    public void run() throws Exception {
        Files.createDirectories(benchDir);
        loadBefore = Host.loadAverage();
        route = BenchRoute.create(options.sessions(), GRACE);
        engineVersion = route.engineVersion();
        gateway = startGateway(0);
        int port = gateway.awaitListening();
        Progress.print("gateway pid " + gateway.pid() + " listening on port " + port + ", route " + route.name);

        long begun = System.nanoTime();
        clients.open(port);
        openSeconds = (System.nanoTime() - begun) / 1e9;
        opened = clients.count();
        Progress.print(opened + " sessions open and streaming after " + Math.round(openSeconds) + "s");
        for (int r = 1; r <= options.rounds(); r++) {
            rounds.add(round(r, port));
            deadline.check("round " + r);
        }
    }

    /** One SIGKILL and restart on the same port; the clients' (r+1)th gateway connection is the new gateway's. */
    private RestartRound round(int number, int port) throws Exception {
        Progress.print("round " + number + ": SIGKILL gateway pid " + gateway.pid());
        int exit = gateway.kill();
        List<String> dropProblems = clients.awaitDropped();
        Set<String> running = route.runningSessions();

        long startNanos = System.nanoTime();
        gateway = startGateway(port);
        FirstHealth first = awaitHealth();
        long healthAt = first.atNanos();
        // Clients come back the moment the gateway answers, while /health is watched for the adoption to finish.
        List<Future<Comeback>> returning = clients.comeBack(port, number + 1, healthAt);
        double[] adoption = awaitAdoption(first);
        List<Comeback> comebacks = ReturningClients.await(returning, deadline);

        RestartRound round = new RestartRound(
                number,
                exit,
                dropProblems,
                running.size(),
                (healthAt - startNanos) / 1e6,
                adoption[0],
                adoption[1],
                adoptionLogMs(),
                comebacks);
        Progress.print(String.format(
                java.util.Locale.ROOT,
                "round %d: start → /health %.0f ms, → all registered +%.0f ms, → all piped +%.0f ms, → all %d clients back"
                        + " +%.0f ms; %d failed",
                number,
                round.startToHealthMs(),
                round.healthToRegisteredMs(),
                round.healthToPipedMs(),
                comebacks.size(),
                round.allBackMs(),
                round.failures()));
        if (round.failures() == comebacks.size()) {
            throw new IllegalStateException("no client came back in round " + number + "; first: "
                    + comebacks.get(0).problem());
        }
        return round;
    }

    /**
     * Starts the jar with the bench config on {@code port} (0: any) and waits for its listening line. Right after a
     * gateway died its port may be held for a moment, so a start that fails to bind is retried for a few seconds.
     */
    private GatewayProcess startGateway(int port) throws Exception {
        long giveUp = System.nanoTime() + PORT_BUSY_RETRY.toNanos();
        while (true) {
            Path logFile = benchDir.resolve("restart-" + stamp + "-gateway-" + logFiles.size() + ".log");
            logFiles.add(logFile);
            List<String> arguments = List.of(
                    "-Xmx512m",
                    "-jar",
                    "gateway/target/berth-gateway.jar",
                    "--config",
                    route.config.toString(),
                    "--port",
                    Integer.toString(port));
            GatewayProcess process =
                    GatewayProcess.start(options.root(), arguments, logFile, new GatewayLog(), deadline);
            if (!hold(process)) {
                process.stop();
                throw new IllegalStateException("the run is being stopped");
            }
            try {
                process.awaitListening();
                return process;
            } catch (ExecutionException exited) {
                boolean portBusy = Files.readString(logFile).contains("Address already in use");
                if (!portBusy || System.nanoTime() > giveUp) {
                    throw new IllegalStateException("the gateway did not start; see " + logFile, exited.getCause());
                }
                Progress.print("port " + port + " still busy; starting again");
                Thread.sleep(500);
            } catch (Exception notListening) {
                stopNotes.addAll(process.stop()); // not left running unheld
                throw notListening;
            }
        }
    }

    /** The first /health answer of a gateway, and when it came (System.nanoTime). */
    private record FirstHealth(long atNanos, JsonObject health) {}

    /** Keeps hold of a started gateway for cleanup; false when cleanup has begun and it must be stopped now. */
    private synchronized boolean hold(GatewayProcess process) {
        if (cleanedUp) {
            return false;
        }
        started.add(process);
        return true;
    }

    /** Polls /health until it answers. */
    private FirstHealth awaitHealth() throws Exception {
        long giveUp = System.nanoTime() + deadline.boundedMillis(HEALTH_TIMEOUT) * 1_000_000;
        while (true) {
            try {
                JsonObject health = gateway.health();
                return new FirstHealth(System.nanoTime(), health);
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > giveUp || !gateway.isAlive()) {
                    throw new IllegalStateException(
                            "/health did not answer within " + HEALTH_TIMEOUT.toSeconds() + "s", notYet);
                }
                Thread.sleep(10);
            }
        }
    }

    /**
     * Watches /health, from its first answer on, until it counts every session (b) and every session is piped to its
     * container, i.e. detached or attached, none connecting (b'). Returns both in ms; -1 for one never reached. What
     * the first answer already shows counts as 0: the gateway adopts before it listens.
     */
    private double[] awaitAdoption(FirstHealth first) throws Exception {
        double registered = -1;
        double piped = -1;
        long healthAt = first.atNanos();
        long giveUp = healthAt + deadline.boundedMillis(ADOPTION_TIMEOUT) * 1_000_000;
        JsonObject health = first.health();
        while (true) {
            double at = health == first.health() ? 0 : (System.nanoTime() - healthAt) / 1e6;
            JsonObject states = health.getJsonObject("states", new JsonObject());
            if (registered < 0 && health.getInteger("sessions", 0) >= options.sessions()) {
                registered = at;
            }
            if (piped < 0
                    && states.getInteger("detached", 0) + states.getInteger("attached", 0) >= options.sessions()) {
                piped = at;
            }
            if ((registered >= 0 && piped >= 0) || System.nanoTime() > giveUp) {
                return new double[] {registered, piped};
            }
            Thread.sleep(10);
            health = gateway.health();
        }
    }

    /** The gateway's own time for finding and registering the running sessions, from its log. */
    private long adoptionLogMs() {
        try {
            Matcher m = ADOPTED.matcher(Files.readString(logFiles.get(logFiles.size() - 1)));
            return m.find() ? Long.parseLong(m.group(2)) : -1;
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Ends every session, stops the gateway, removes what is left of the route. Runs once. */
    @Override
    public synchronized void cleanup() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        boolean gatewayUp = gateway != null && gateway.isAlive();
        stopNotes.add(clients.closeAll());
        if (route != null && gatewayUp) {
            awaitSessionsEnded();
        }
        if (gateway != null) {
            stopNotes.addAll(gateway.stop());
        }
        for (GatewayProcess other : List.copyOf(started)) {
            if (other != gateway && other.isAlive()) {
                stopNotes.add("a gateway (pid " + other.pid() + ") was still starting; stopping it");
                stopNotes.addAll(other.stop());
            }
        }
        if (route != null) {
            int left = route.removeAll();
            stopNotes.add(
                    left == 0
                            ? "no container of route " + route.name + " left"
                            : "**" + left + " container(s) of route " + route.name
                                    + " were left; the benchmark removed them**");
            try {
                route.close();
            } catch (Exception e) {
                stopNotes.add("could not delete " + route.config + ": " + e);
            }
        }
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // nothing left to do
        }
        loadAfter = Host.loadAverage();
    }

    /** The clients closed with 1000: their sessions end and the gateway removes their containers. */
    private void awaitSessionsEnded() {
        long begun = System.nanoTime();
        long giveUp = begun + Duration.ofSeconds(60).toNanos();
        int left = route.all();
        while (left > 0 && System.nanoTime() < giveUp) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            left = route.all();
        }
        stopNotes.add(
                left == 0
                        ? String.format(
                                java.util.Locale.ROOT,
                                "the gateway removed every container %.1fs after the clients closed",
                                (System.nanoTime() - begun) / 1e9)
                        : left + " container(s) still there 60s after their clients closed with 1000");
    }

    @Override
    public String report(Exception failure) {
        RestartReport report = new RestartReport(options);
        report.header(startedAt, loadBefore, loadAfter, engineVersion, route == null ? "?" : route.name, logFiles);
        if (failure != null) {
            report.failure(failure);
        }
        report.rounds(rounds, opened, openSeconds);
        report.stop(stopNotes);
        return report.text();
    }
}
