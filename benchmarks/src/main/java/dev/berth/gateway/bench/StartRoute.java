package dev.berth.gateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * One start scenario's route and config: a unique route name ({@code bench-<random8>}) and a config file that
 * declares only it, written inside config/ as {@code config/.bench-<stamp>-<scenario>.yaml} so that the relative
 * paths in it (the process launcher's command, the token secret) resolve as config/berth.yaml's do. Its token
 * secret is a file of its own, {@code config/.bench-<stamp>-<scenario>.key}; both are deleted by {@link #close}.
 */
final class StartRoute implements AutoCloseable {

    /** The handler command of config/berth.yaml's process section, run from config/. */
    static final List<String> PROCESS_COMMAND = List.of(
            "java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", "../handler-image/target/berth-handler.jar");

    final String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    final StartScenario scenario;
    /** The floor of its pool: what a fresh gateway fills it to. */
    final int poolSize;

    final Path config;
    final Path tokenSecret;

    private StartRoute(StartScenario scenario, int poolSize, Path config, Path tokenSecret) {
        this.scenario = scenario;
        this.poolSize = poolSize;
        this.config = config;
        this.tokenSecret = tokenSecret;
    }

    /**
     * Writes the config: the scenario's launcher, sessions ended (containers removed) at shutdown, the pool size,
     * room for {@code maxSessions}; everything else is the default config/berth.yaml documents.
     */
    static StartRoute write(Path root, String stamp, StartScenario scenario, int poolSize, int maxSessions)
            throws IOException {
        return write(root, stamp, scenario, poolSize, "{size: " + poolSize + "}", maxSessions);
    }

    /** The same, with the route's {@code pool} as {@code poolYaml}, whose floor is {@code floor}. */
    static StartRoute write(
            Path root, String stamp, StartScenario scenario, int floor, String poolYaml, int maxSessions)
            throws IOException {
        int poolSize = floor;
        String base = ".bench-" + stamp + "-" + scenario.flag();
        Path dir = root.resolve("config");
        StartRoute route = new StartRoute(scenario, poolSize, dir.resolve(base + ".yaml"), dir.resolve(base + ".key"));
        String command = String.join(", ", PROCESS_COMMAND);
        Files.writeString(route.config, """
        # Written by scripts/bench-start.sh (StartBenchmark) for scenario %s; deleted when the run ends.
        listen: {host: 127.0.0.1, port: 0}
        admin: {port: 0}
        launcher: %s
        sessions:
          onShutdown: end
          tokenSecretFile: %s
        routes:
          - name: %s
            path: /ws
            version: 0.1.0
            docker: {image: "%s"}
            process: {command: [%s]}
            maxSessions: %d
            pool: %s
        """.formatted(
                        scenario.flag(),
                        scenario.launcher,
                        route.tokenSecret.getFileName(),
                        route.name,
                        BenchRoute.IMAGE,
                        command,
                        maxSessions,
                        poolYaml));
        return route;
    }

    /** Deletes the config file and the token secret the gateway made for it. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(config);
        Files.deleteIfExists(tokenSecret);
    }
}
