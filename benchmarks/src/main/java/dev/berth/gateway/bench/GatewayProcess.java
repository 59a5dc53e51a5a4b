package dev.berth.gateway.bench;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The gateway under test: the packaged jar as a child process of the benchmark, its output copied to a log file
 * and read by a {@link GatewayLog}. Answers how many sessions it holds (GET /health), runs jcmd against it, reads
 * its RSS, and stops it with SIGTERM as an operator would.
 */
final class GatewayProcess {

    private static final String JAR = "gateway/target/berth-gateway.jar";
    static final String CONFIG = "config/berth.yaml";
    /** The route config/berth.yaml declares, whose containers the benchmark launches. */
    static final String ROUTE = "listings";
    /** What follows {@code java} on the gateway's command line. */
    static final List<String> ARGUMENTS = List.of("-Xmx512m", "-jar", JAR, "--config", CONFIG, "--port", "0");

    private static final Duration LISTEN_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path logFile;
    private final GatewayLog log;
    private final Deadline deadline;
    private final Thread logPump;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private int port;

    private GatewayProcess(Process process, Writer logWriter, Path logFile, GatewayLog log, Deadline deadline) {
        this.process = process;
        this.logFile = logFile;
        this.log = log;
        this.deadline = deadline;
        this.logPump = new Thread(() -> pumpLog(logWriter), "bench-gateway-log");
        logPump.setDaemon(true);
        logPump.start();
    }

    /** Starts the gateway from the repository {@code root}; its output goes to {@code logFile} and to {@code log}. */
    static GatewayProcess start(Path root, Path logFile, GatewayLog log, Deadline deadline) throws IOException {
        return start(root, ARGUMENTS, logFile, log, deadline);
    }

    /** The same with other {@code arguments} after {@code java}, e.g. another config and a fixed port. */
    static GatewayProcess start(Path root, List<String> arguments, Path logFile, GatewayLog log, Deadline deadline)
            throws IOException {
        Path jar = root.resolve(JAR);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build it with "
                    + "mvn -q -B -DskipTests -Dberth.image.skip=true package (scripts/bench-cold-start.sh does)");
        }
        List<String> command = new ArrayList<>();
        command.add(javaTool("java"));
        command.addAll(arguments);
        Progress.print("starting " + String.join(" ", command) + " (log: " + root.relativize(logFile) + ")");
        // opened first: once the process runs, nothing may fail before the caller holds it to stop it
        Writer logWriter = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
        try {
            Process process = new ProcessBuilder(command)
                    .directory(root.toFile())
                    .redirectErrorStream(true)
                    .start();
            return new GatewayProcess(process, logWriter, logFile, log, deadline);
        } catch (IOException | RuntimeException e) {
            logWriter.close();
            throw e;
        }
    }

    /** Waits for the listening line and returns the port the gateway listens on. */
    int awaitListening() throws Exception {
        try {
            port = log.listeningPort().get(deadline.boundedMillis(LISTEN_TIMEOUT), TimeUnit.MILLISECONDS);
            return port;
        } catch (TimeoutException e) {
            throw new TimeoutException("the gateway did not log its listening line within " + LISTEN_TIMEOUT.toSeconds()
                    + "s; see " + logFile);
        }
    }

    /** Copies the gateway's output to its log file and hands each line to the {@link GatewayLog}. */
    private void pumpLog(Writer logWriter) {
        try (logWriter;
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                logWriter.write(line);
                logWriter.write('\n');
                logWriter.flush();
                log.scan(line);
            }
        } catch (IOException e) {
            log.noListeningLine(e);
        } finally {
            log.noListeningLine(new IllegalStateException("the gateway exited before listening; see " + logFile));
        }
    }

    long pid() {
        return process.pid();
    }

    /** The number of sessions the gateway holds, from GET /health. */
    int sessions() throws Exception {
        return health().getInteger("sessions");
    }

    /** GET /health: status, launcher, sessions and sessions per state; fails while nothing answers. */
    JsonObject health() throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET /health answered " + response.statusCode() + ": " + response.body());
        }
        return new JsonObject(response.body());
    }

    /** Polls /health until it reports {@code expected} sessions or {@code atMost} is over; returns the last count. */
    int awaitSessions(int expected, Duration atMost) throws Exception {
        long until = System.nanoTime() + Math.min(atMost.toNanos(), deadline.remainingNanos());
        int sessions = sessions();
        while (sessions != expected && System.nanoTime() < until) {
            Thread.sleep(500);
            sessions = sessions();
        }
        return sessions;
    }

    /** Runs {@code jcmd <pid> command} and returns its output; fails when jcmd does. */
    String jcmd(String command) throws Exception {
        long pid = process.pid();
        Process p = new ProcessBuilder(javaTool("jcmd"), Long.toString(pid), command)
                .redirectErrorStream(true)
                .start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        if (!p.waitFor(deadline.boundedMillis(Duration.ofSeconds(60)), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new TimeoutException("jcmd " + pid + " " + command + " did not finish");
        }
        String text = out.get(5, TimeUnit.SECONDS);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("jcmd " + pid + " " + command + " failed (" + p.exitValue() + "): " + text);
        }
        return text;
    }

    /** The gateway's resident set size in KiB, from /proc/<pid>/status; -1 where it is not there. */
    long rssKilobytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /**
     * Sends SIGTERM, on which the gateway ends its sessions and removes their containers; kills it if it has not
     * exited after {@link #EXIT_TIMEOUT}, and kills any child process it left. Returns what happened, for the report.
     */
    List<String> stop() {
        List<String> notes = new ArrayList<>();
        // handler processes, should the process launcher be in use
        List<ProcessHandle> children = process.descendants().toList();
        long begun = System.nanoTime();
        // Through the handle: Process.destroy() would also close the output pipe, losing the shutdown lines.
        process.toHandle().destroy();
        try {
            if (process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                notes.add(String.format(
                        Locale.ROOT,
                        "gateway exited with status %d %.1fs after SIGTERM",
                        process.exitValue(),
                        (System.nanoTime() - begun) / 1e9));
            } else {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                notes.add("gateway did NOT exit within " + EXIT_TIMEOUT.toSeconds()
                        + "s of SIGTERM; killed it (SIGKILL)");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
                notes.add("killed leftover gateway child process " + child.pid());
            }
        }
        try {
            logPump.join(5000); // the log's last lines
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return notes;
    }

    /**
     * Sends SIGKILL, as a crash or the OOM killer would: the gateway gets no chance to stop anything. Waits for the
     * process to be gone and returns its exit status (137). The output pipe stays open for the log's last lines.
     */
    int kill() throws Exception {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(deadline.boundedMillis(EXIT_TIMEOUT), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("the gateway (pid " + process.pid() + ") was still there after SIGKILL");
        }
        logPump.join(5000);
        return process.exitValue();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The JDK tool {@code name} of the JVM running the benchmark, so gateway and jcmd match it; else from PATH. */
    private static String javaTool(String name) {
        Path tool = Path.of(System.getProperty("java.home"), "bin", name);
        return Files.isExecutable(tool) ? tool.toString() : name;
    }
}
