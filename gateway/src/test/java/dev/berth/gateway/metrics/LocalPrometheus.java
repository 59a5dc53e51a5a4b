package dev.berth.gateway.metrics;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's Prometheus as a child process of this JVM, everything it writes (config, rules, TSDB,
 * log) in a temp folder of its own, listening on a free port of 127.0.0.1, scraping one target and
 * evaluating its rules every second. {@link #close} stops it and removes the folder; a JVM that
 * dies takes it along (a shutdown hook).
 */
final class LocalPrometheus implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final int PORT_ATTEMPTS = 10;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Path dir;
    final int port;
    private Process process;
    private Thread killOnExit;

    private LocalPrometheus(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** The binary on the PATH (or in /usr/bin), if there is one. */
    static Optional<Path> binary(String name) {
        return Stream.concat(
                        Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                                .filter(entry -> !entry.isEmpty()),
                        Stream.of("/usr/bin"))
                .map(entry -> Path.of(entry, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /**
     * Starts {@code binary} with {@code rules} (the text of a rules file), scraping /metrics on
     * {@code target} (host:port) as job {@code berth}.
     */
    static LocalPrometheus start(Path binary, String rules, String target) throws Exception {
        Path dir = Files.createTempDirectory("berth-prometheus-");
        try {
            Files.writeString(dir.resolve("rules.yml"), rules);
            Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                      evaluation_interval: 1s
                    rule_files: ["%s"]
                    scrape_configs:
                      - job_name: berth
                        static_configs:
                          - targets: ["%s"]
                    """.formatted(dir.resolve("rules.yml"), target));
            for (int attempt = 1; ; attempt++) {
                LocalPrometheus prometheus = new LocalPrometheus(dir, freePort());
                if (prometheus.launch(binary)) {
                    return prometheus;
                }
                if (attempt == PORT_ATTEMPTS) { // another process took each port between our look and its bind
                    throw new IllegalStateException(
                            "prometheus found no free port in " + PORT_ATTEMPTS + " tries: " + prometheus.log());
                }
            }
        } catch (Exception | Error failed) {
            deleteTree(dir);
            throw failed;
        }
    }

    /** GET {@code path} on its HTTP API, as JSON; fails unless it answers 200 with status success. */
    JsonObject api(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        JsonObject body = new JsonObject(response.body());
        if (response.statusCode() != 200 || !"success".equals(body.getString("status"))) {
            throw new IllegalStateException("GET " + path + " answered " + response.statusCode() + ": " + body);
        }
        return body.getJsonObject("data");
    }

    /** An instant query. */
    JsonObject query(String promql) throws IOException, InterruptedException {
        return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /** What it logged so far. */
    String log() {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException none) {
            return "(no log)";
        }
    }

    /** Stops it (TERM, then KILL after 10 s) and removes its folder. */
    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            deleteTree(dir);
        }
    }

    private void stop() throws InterruptedException {
        if (process == null) {
            return;
        }
        Process running = process;
        process = null;
        running.destroy();
        if (!running.waitFor(10, TimeUnit.SECONDS)) {
            running.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        Runtime.getRuntime().removeShutdownHook(killOnExit);
    }

    /** True once it answers ready on {@link #port}; false if the port was taken. */
    private boolean launch(Path binary) throws Exception {
        Files.deleteIfExists(dir.resolve("prometheus.log"));
        Process started = new ProcessBuilder(
                        binary.toString(),
                        "--config.file=" + dir.resolve("prometheus.yml"),
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--storage.tsdb.retention.time=1h",
                        "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        process = started;
        killOnExit = new Thread(started::destroyForcibly, "kill-prometheus-" + started.pid());
        Runtime.getRuntime().addShutdownHook(killOnExit);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (started.isAlive()) {
            if (ready()) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                stop();
                throw new IllegalStateException("prometheus was not ready within " + START_TIMEOUT + ": " + log());
            }
            Thread.sleep(100);
        }
        stop();
        if (!log().contains("address already in use")) {
            throw new IllegalStateException("prometheus exited at start: " + log());
        }
        return false;
    }

    private boolean ready() {
        try {
            return http.send(
                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/ready"))
                                            .timeout(Duration.ofSeconds(2))
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode()
                    == 200;
        } catch (IOException notYet) {
            return false;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
