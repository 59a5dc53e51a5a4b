package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway as a child process, for tests that need a real gateway process (to kill, restart or
 * run two of): its output copied to a log file and scanned for the listening line, and the signals
 * an operator sends. It runs {@code dev.berth.gateway.Main} from the test JVM's own class path, so
 * these tests run with the others, before packaging; the packaged jar has tests of its own
 * (GatewayJarIT, BrowserFeedIT).
 */
final class GatewayProcess {

    static final Duration LISTEN_TIMEOUT = Duration.ofSeconds(90);
    /** Right after a gateway died its port may still be held for a moment. */
    private static final Duration PORT_BUSY_RETRY = Duration.ofSeconds(15);

    private static final Pattern LISTENING = Pattern.compile("Berth gateway listening on http://[0-9.]+:(\\d+)/");

    final Process process;
    final Path log;
    final long startedNanos;
    final CompletableFuture<Integer> listening = new CompletableFuture<>();
    volatile int port;

    private GatewayProcess(Process process, Path log, long startedNanos) {
        this.process = process;
        this.log = log;
        this.startedNanos = startedNanos;
    }

    /**
     * Starts a gateway on {@code config} and {@code port} (0: any) and waits for its listening line;
     * a start that fails to bind is retried for a few seconds, each attempt logging to {@code log}
     * anew.
     */
    static GatewayProcess startGateway(Path config, int port, Path log) throws Exception {
        // C1 only and the serial collector: a test gateway lives seconds, and C2's compiling would be
        // most of its CPU on a machine the other tests share.
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.berth.gateway.Main",
                "--config",
                config.toString(),
                "--port",
                Integer.toString(port));
        long giveUp = System.nanoTime() + PORT_BUSY_RETRY.toNanos();
        while (true) {
            GatewayProcess run = start(command, null, log);
            try {
                run.port = run.listening.get(LISTEN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                return run;
            } catch (java.util.concurrent.ExecutionException exited) {
                boolean portBusy = Files.readString(run.log).contains("Address already in use");
                if (!portBusy || System.nanoTime() > giveUp) {
                    throw new AssertionError("the gateway did not start; see " + run.log, exited.getCause());
                }
                Thread.sleep(500);
            }
        }
    }

    /**
     * Runs {@code command} in {@code directory} (e.g. the README's run script, which may build first)
     * and waits up to {@code within} for the gateway's listening line.
     */
    static GatewayProcess run(List<String> command, Path directory, Path log, Duration within) throws Exception {
        GatewayProcess run = start(command, directory, log);
        run.port = run.listening.get(within.toSeconds(), TimeUnit.SECONDS);
        return run;
    }

    private static GatewayProcess start(List<String> command, Path directory, Path log) throws Exception {
        long started = System.nanoTime();
        // With the signals' default actions, as a shell or a process manager starts it: a build run in
        // the background or under nohup passes SIGINT or SIGHUP on ignored, and the JVM keeps them so.
        List<String> withDefaultSignals = new ArrayList<>(List.of("env", "--default-signal=HUP,INT,TERM"));
        withDefaultSignals.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(withDefaultSignals).redirectErrorStream(true);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process = builder.start();
        // A test JVM that dies (or is stopped) takes its gateways with it, whatever the test's cleanup did.
        Runtime.getRuntime()
                .addShutdownHook(new Thread(process.toHandle()::destroyForcibly, "kill-gateway-" + process.pid()));
        GatewayProcess run = new GatewayProcess(process, log, started);
        Thread copier = new Thread(run::copyOutput, "gateway-output-" + process.pid());
        copier.setDaemon(true);
        copier.start();
        return run;
    }

    /** Waits up to 10 s for a log line containing {@code text}. */
    void awaitLogLine(String text) throws Exception {
        long giveUp = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.readString(log).contains(text)) {
            assertTrue(System.nanoTime() < giveUp, "no log line with '" + text + "' within 10s; see " + log);
            Thread.sleep(50);
        }
    }

    /**
     * SIGTERM. Sent through the ProcessHandle: Process.destroy() would also close our end of the
     * gateway's output pipe, and its shutdown lines would never reach the log file.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    /** SIGHUP: reload the config file. */
    void hangUp() throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("kill", "-HUP", Long.toString(process.pid()))
                        .start()
                        .waitFor());
    }

    /** SIGKILL, keeping the output pipe open for the same reason. */
    void kill() {
        process.toHandle().destroyForcibly();
    }

    private void copyOutput() {
        try (BufferedReader out =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                var file = Files.newBufferedWriter(log)) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                file.write(line);
                file.newLine();
                file.flush();
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    listening.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (Exception e) {
            listening.completeExceptionally(e);
        }
        listening.completeExceptionally(new IllegalStateException("the gateway exited before listening; see " + log));
    }
}
