package dev.berth.gateway.bench;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Cold-start and idle-memory benchmark of the real gateway jar on the real Docker engine. Run it
 * with {@code scripts/bench-cold-start.sh [--sessions N] [--idle M]}; the Markdown report goes to
 * stdout and to {@code target/bench/cold-start-<timestamp>.md}, the gateway's own log to
 * {@code target/bench/gateway-<timestamp>.log}, progress to stderr.
 *
 * <ol>
 *   <li>starts {@code java -Xmx512m -jar gateway/target/berth-gateway.jar --config config/berth.yaml
 *       --port 0} from the repository root and waits for its listening line;</li>
 *   <li>warm-up: 2 sessions, closed after their hello, then waits for their grace to run out so the
 *       baseline is taken from a warmed-up gateway holding no session;</li>
 *   <li>cold start: N sessions one after another, each from a brand-new client without cookie,
 *       timed from just before {@code connect} to the 101 and to the hello frame; these clients stay
 *       open and count towards the idle set;</li>
 *   <li>idle memory: full GC and heap/RSS with 0, N and M open idle sessions (M - N more opened a few
 *       at a time), plus the classes whose live bytes grew most;</li>
 *   <li>stop: closes every client, SIGTERMs the gateway, and checks through the engine that no
 *       container this gateway launched is left (removing and reporting any that are).</li>
 * </ol>
 *
 * Every wait is bounded, and the whole run by {@code --time-limit-s}. Cleanup runs in a finally
 * block and in a shutdown hook, so an interrupted run still stops the gateway.
 */
public final class ColdStartBenchmark implements Benchmark {

    private static final Duration GRACE_WAIT = Duration.ofSeconds(75); // idleGrace 30s + stop + slack

    private final Options options;
    private final ZonedDateTime startedAt = ZonedDateTime.now();
    private final Path benchDir;
    private final Path logFile;
    private final Path reportFile;
    private final Deadline deadline;
    private final Vertx vertx = Vertx.vertx();
    private final SessionClients clients;
    private final GatewayLog gatewayLog = new GatewayLog();
    private final RouteContainers containers = new RouteContainers();
    private final List<MemorySample> samples = new ArrayList<>();
    private final List<String> stopNotes = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private GatewayProcess gateway;
    private String loadBefore;
    private String loadAfter;
    private boolean cleanedUp;

    private ColdStartBenchmark(Options options) {
        this.options = options;
        this.benchDir = options.root().resolve("target").resolve("bench");
        String stamp = startedAt.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        this.logFile = benchDir.resolve("gateway-" + stamp + ".log");
        this.reportFile = benchDir.resolve("cold-start-" + stamp + ".md");
        this.deadline = new Deadline(options.timeLimit());
        this.clients = new SessionClients(vertx, options, deadline);
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            throw e;
        }
        ColdStartBenchmark bench = new ColdStartBenchmark(options);
        Benchmark.runAndReport(bench, options.root(), bench.reportFile);
    }

    @Override
    public void run() throws Exception {
        Files.createDirectories(benchDir);
        loadBefore = Host.loadAverage();
        notes.addAll(containers.recordExisting());
        gateway = GatewayProcess.start(options.root(), logFile, gatewayLog, deadline);
        int port = gateway.awaitListening();
        Progress.print("gateway pid " + gateway.pid() + " listening on port " + port + " (launcher "
                + gatewayLog.launcher() + ")");

        samples.add(MemorySample.take(gateway, MemorySample.FRESH));
        clients.warmUp(port);
        if (options.idle() > 0) {
            measureWarmedUp();
        }
        clients.startColdSessions(port);
        if (options.idle() > 0) {
            measureIdle(port);
        }
    }

    /** The baseline: once the warm-up sessions' grace has run out and the gateway holds none. */
    private void measureWarmedUp() throws Exception {
        Progress.print("waiting for the warm-up sessions' grace period to end (idleGrace 30s)");
        int left = gateway.awaitSessions(0, GRACE_WAIT);
        if (left != 0) {
            throw new IllegalStateException("the gateway still holds " + left + " session(s) " + GRACE_WAIT.toSeconds()
                    + "s after the warm-up clients left");
        }
        samples.add(MemorySample.take(gateway, MemorySample.WARMED_UP));
    }

    /** Readings with the cold-start sessions held, then with {@code --idle} sessions held. */
    private void measureIdle(int port) throws Exception {
        int held = gateway.awaitSessions(clients.openCount(), GRACE_WAIT);
        samples.add(MemorySample.take(gateway, held + " sessions (the cold starts, kept open)"));
        clients.openIdleSessions(port);
        Thread.sleep(2000); // let the last hellos and first listing updates pass
        int open = clients.openCount();
        samples.add(MemorySample.take(gateway, gateway.sessions() + " idle sessions"));
        if (open != options.idle()) {
            notes.add("only " + open + " of " + options.idle() + " idle clients were open at the last reading");
        }
    }

    /** Closes every client, stops the gateway and removes what it left behind. Runs once. */
    @Override
    public synchronized void cleanup() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        clients.closeAll().ifPresent(stopNotes::add);
        if (gateway != null) {
            stopNotes.addAll(gateway.stop());
            stopNotes.addAll(containers.removeLeftovers(sessionKeysOfThisRun()));
        }
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // nothing left to do
        }
        loadAfter = Host.loadAverage();
    }

    /** The sessions the gateway's log or a hello named: their containers are this run's. */
    private Set<String> sessionKeysOfThisRun() {
        Set<String> keys = new HashSet<>(gatewayLog.sessionKeys());
        keys.addAll(clients.sessionKeys());
        return keys;
    }

    @Override
    public String report(Exception failure) {
        MarkdownReport report = new MarkdownReport(options);
        report.header(startedAt, loadBefore, loadAfter, containers.engineVersion(), gatewayLog.launcher(), logFile);
        if (failure != null) {
            report.failure(failure);
        }
        report.coldStarts(clients, gatewayLog);
        if (options.idle() > 0) {
            report.idleMemory(samples, clients);
        }
        report.stop(stopNotes, gatewayLog, notes);
        return report.text();
    }
}
