package dev.berth.gateway.bench;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * A route of the benchmark's own: a unique name ({@code bench-<random8>}), a temporary config file that declares
 * only it, and its containers on the Docker engine, found by the {@code berth.route} label. Nothing else on the
 * engine carries that label, so whatever it finds was made by this run and may be removed.
 */
final class BenchRoute implements AutoCloseable {

    static final String IMAGE = System.getProperty("berth.handler.image", "berth/handler:0.1.0");

    final String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    final Path config;
    private final DockerClient docker;

    private BenchRoute(Path config, DockerClient docker) {
        this.config = config;
        this.docker = docker;
    }

    /**
     * Writes the config: the docker launcher, containers kept at shutdown (as config/berth.yaml says), {@code grace}
     * long enough for a client to come back after a restart, and room for {@code sessions}. Everything else is the
     * default config/berth.yaml documents.
     */
    static BenchRoute create(int sessions, Duration grace) throws IOException {
        Path file = Files.createTempFile("berth-bench-restart-", ".yaml");
        DockerClient docker = connect();
        BenchRoute route = new BenchRoute(file, docker);
        Files.writeString(file, """
        listen: {host: 127.0.0.1, port: 0}
        admin: {port: 0}
        launcher: docker
        sessions: {onShutdown: keep}
        routes:
          - name: %s
            path: /ws
            version: bench
            docker: {image: "%s"}
            maxSessions: %d
            timeouts: {grace: %ds}
        """.formatted(route.name, IMAGE, sessions + 10, grace.toSeconds()));
        return route;
    }

    /** The engine's version, or "unreachable". */
    String engineVersion() {
        try {
            return docker.versionCmd().exec().getVersion();
        } catch (RuntimeException e) {
            return "unreachable (" + e.getMessage() + ")";
        }
    }

    /** The route's running containers. */
    int running() {
        return list(false).size();
    }

    /** The session keys of the route's running containers. */
    Set<String> runningSessions() {
        return list(false).stream()
                .map(c -> label(c, "berth.session"))
                .filter(Objects::nonNull)
                .collect(Collectors.toSet());
    }

    /** The route's containers, running or not. */
    int all() {
        return list(true).size();
    }

    /** Removes every container of the route, running or not; returns how many there were. */
    int removeAll() {
        List<Container> left = list(true);
        for (Container c : left) {
            try {
                docker.removeContainerCmd(c.getId())
                        .withForce(true)
                        .withRemoveVolumes(true)
                        .exec();
            } catch (NotFoundException gone) {
                // removed meanwhile
            }
        }
        return left.size();
    }

    /** Deletes the config file and lets go of the engine; the containers are removed by {@link #removeAll}. */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(config);
        docker.close();
    }

    private List<Container> list(boolean includeStopped) {
        return docker.listContainersCmd()
                .withShowAll(includeStopped)
                .withLabelFilter(Map.of("berth.managed", "true", "berth.route", name))
                .exec();
    }

    private static String label(Container c, String label) {
        return c.getLabels() == null ? null : c.getLabels().get(label);
    }

    private static DockerClient connect() {
        DefaultDockerClientConfig config =
                DefaultDockerClientConfig.createDefaultConfigBuilder().build();
        return DockerClientImpl.getInstance(
                config,
                new ApacheDockerHttpClient.Builder()
                        .dockerHost(config.getDockerHost())
                        .connectionTimeout(Duration.ofSeconds(3))
                        .responseTimeout(Duration.ofSeconds(30))
                        .build());
    }
}
