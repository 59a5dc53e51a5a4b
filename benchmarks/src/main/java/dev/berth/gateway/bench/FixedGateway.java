package dev.berth.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The gateway jar on a config of its own with {@code launcher: fixed}: every client a session of
 * its own, piped to the given running backends in turn, with admission opened wide (all clients
 * come from 127.0.0.1). For the benchmarks that measure the data path rather than launches.
 * {@link #close} stops the gateway and deletes the config; safe to call twice.
 */
final class FixedGateway implements AutoCloseable {

    private final Path config;
    private GatewayProcess process;
    private final int port;

    private FixedGateway(Path config, GatewayProcess process, int port) {
        this.config = config;
        this.process = process;
        this.port = port;
    }

    /**
     * @param name the route's name and the config file's ({@code config/.bench-<name>-<stamp>.yaml})
     * @param backends host:port of each backend
     * @param extraJvm more JVM options for the gateway, e.g. a JFR recording; may be blank
     */
    static FixedGateway start(
            Path root,
            String name,
            String stamp,
            List<String> backends,
            String extraJvm,
            Path logFile,
            Deadline deadline)
            throws Exception {
        Path config = root.resolve("config/.bench-" + name + "-" + stamp + ".yaml");
        Files.writeString(config, """
        # written by a benchmark: every client a session of its own, piped to these backends in turn
        listen: {host: 127.0.0.1, port: 0, maxConnections: 20000, eventLoops: 2}   # one per core of the machine measured
        admin: {port: 0}
        launcher: fixed
        sessions:
          onShutdown: end
          maxSessions: 20000
          perClient: {maxSessions: 20000, newPerMinute: 1000000}   # every client comes from 127.0.0.1
          launches: {maxConcurrent: 1000, queue: 10000}
        routes:
          - name: bench-%s
            path: /ws
            maxSessions: 20000
            fixed: {backends: [%s]}
        """.formatted(
                        name, backends.stream().map(b -> "\"" + b + "\"").collect(Collectors.joining(", "))));
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
            return new FixedGateway(config, process, process.awaitListening());
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
