package dev.berth.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The gateway jar on a config of its own, for the benchmarks that measure the data path rather
 * than launches, with admission opened wide (all clients come from 127.0.0.1): either {@code
 * launcher: fixed} (every client a session of its own, piped to the given running backends in
 * turn) or {@code launcher: docker} (every session its own handler container, as users run it).
 * {@link #close} stops the gateway and deletes the config; safe to call twice.
 */
final class BenchGateway implements AutoCloseable {

    /** The gateway's event loops: one per core of the machine measured, unless BERTH_BENCH_EVENT_LOOPS says. */
    private static final String EVENT_LOOPS =
            System.getenv().getOrDefault("BERTH_BENCH_EVENT_LOOPS", "2").replaceAll("[^0-9]", "");

    private final Path config;
    private GatewayProcess process;
    private final int port;

    private BenchGateway(Path config, GatewayProcess process, int port) {
        this.config = config;
        this.process = process;
        this.port = port;
    }

    /**
     * @param name the route's name and the config file's ({@code config/.bench-<name>-<stamp>.yaml})
     * @param backends host:port of each backend
     * @param extraJvm more JVM options for the gateway, e.g. a JFR recording; may be blank
     */
    static BenchGateway fixed(
            Path root,
            String name,
            String stamp,
            List<String> backends,
            String extraJvm,
            Path logFile,
            Deadline deadline)
            throws Exception {
        String routes =
                """
          - name: bench-%s
            path: /ws
            maxSessions: 20000
            fixed: {backends: [%s]}
        """.formatted(name, backends.stream().map(b -> "\"" + b + "\"").collect(Collectors.joining(", ")));
        return start(root, name, stamp, "fixed", routes, extraJvm, logFile, deadline);
    }

    /**
     * Each session its own container of {@code image}, with the feed off (a pure echo) and no CPU
     * limit (the echo must not be what is measured); sessions end, and their containers go, when
     * the gateway stops.
     */
    static BenchGateway perSession(
            Path root, String name, String stamp, String image, String extraJvm, Path logFile, Deadline deadline)
            throws Exception {
        String routes = """
          - name: bench-%s
            path: /ws
            maxSessions: 1000
            docker: {image: "%s"}
            env: {BERTH_FEED_PER_SECOND: "0"}
            limits: {memory: 256m, cpus: 2}
            timeouts: {grace: 10m}
        """.formatted(name, image);
        return start(root, name, stamp, "docker", routes, extraJvm, logFile, deadline);
    }

    private static BenchGateway start(
            Path root,
            String name,
            String stamp,
            String launcher,
            String routes,
            String extraJvm,
            Path logFile,
            Deadline deadline)
            throws Exception {
        Path config = root.resolve("config/.bench-" + name + "-" + stamp + ".yaml");
        Files.writeString(config, """
        # written by a benchmark: launcher %s, admission opened wide
        listen: {host: 127.0.0.1, port: 0, maxConnections: 20000, maxConnectionsPerClient: 20000, eventLoops: %s}
        admin: {port: 0}
        launcher: %s
        sessions:
          onShutdown: end
          maxSessions: 20000
          perClient: {maxSessions: 20000, newPerMinute: 1000000}   # every client comes from 127.0.0.1
          launches: {maxConcurrent: 1000, queue: 10000}
        routes:
        %s""".formatted(launcher, EVENT_LOOPS, launcher, routes));
        List<String> arguments = new ArrayList<>(List.of("-Xmx1g"));
        if (extraJvm != null && !extraJvm.isBlank()) {
            arguments.addAll(List.of(extraJvm.trim().split("\\s+")));
        }
        arguments.addAll(List.of(
                "-jar",
                "gateway/target/berth-gateway.jar",
                "--config",
                root.relativize(config).toString(),
                "--port",
                "0"));
        GatewayProcess process = null;
        try {
            process = GatewayProcess.start(root, arguments, logFile, new GatewayLog(), deadline);
            return new BenchGateway(config, process, process.awaitListening());
        } catch (Exception e) {
            if (process != null) {
                process.stop();
            }
            Files.deleteIfExists(config);
            throw e;
        }
    }

    /** The command line, for the report, with the config's stamp left out. */
    static String command(String name) {
        return "java -Xmx1g -jar gateway/target/berth-gateway.jar --config config/.bench-" + name
                + "-<stamp>.yaml --port 0";
    }

    int port() {
        return port;
    }

    GatewayProcess process() {
        return process;
    }

    @Override
    public synchronized void close() {
        if (process != null) {
            process.stop();
            process = null;
        }
        try {
            Files.deleteIfExists(config);
        } catch (Exception e) {
            Progress.print("could not delete " + config + ": " + e.getMessage());
        }
    }
}
