package dev.berth.gateway.bench;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Docker engine as the start benchmark sees it: its version, the containers of a bench route (found by the
 * {@code berth.route} label, which nothing else carries), their removal, and a container's own log.
 */
final class StartEngine implements AutoCloseable {

    private static final Pattern HANDLER_STARTED = Pattern.compile("listening on .* started in (\\d+) ms");

    private final DockerClient docker;

    StartEngine() {
        DefaultDockerClientConfig config =
                DefaultDockerClientConfig.createDefaultConfigBuilder().build();
        docker = DockerClientImpl.getInstance(
                config,
                new ApacheDockerHttpClient.Builder()
                        .dockerHost(config.getDockerHost())
                        .connectionTimeout(Duration.ofSeconds(3))
                        .responseTimeout(Duration.ofSeconds(30))
                        .build());
    }

    /** The engine's version, or "unreachable (...)". */
    String version() {
        try {
            return docker.versionCmd().exec().getVersion();
        } catch (RuntimeException e) {
            return "unreachable (" + e.getMessage() + ")";
        }
    }

    /** The containers of {@code route}, running or not. */
    List<Container> containers(String route) {
        return docker.listContainersCmd()
                .withShowAll(true)
                .withLabelFilter(Map.of("berth.managed", "true", "berth.route", route))
                .exec();
    }

    /** Removes every service (on a swarm) and container of {@code route}; returns their names. */
    List<String> removeAll(String route) {
        List<String> services = new java.util.ArrayList<>();
        if ("active"
                .equals(docker.infoCmd().exec().getSwarm().getLocalNodeState().getValue())) {
            docker.listServicesCmd()
                    .withLabelFilter(Map.of("berth.managed", "true", "berth.route", route))
                    .exec()
                    .forEach(service -> {
                        docker.removeServiceCmd(service.getId()).exec();
                        services.add("service " + service.getSpec().getName());
                    });
        }
        List<Container> left = containers(route);
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
        services.addAll(left.stream()
                .map(c -> c.getNames() == null
                        ? c.getId().substring(0, 12)
                        : String.join(",", c.getNames()) + " (" + c.getState() + ")")
                .toList());
        return services;
    }

    /**
     * The handler's own start (process start → listening, ms) from its "listening on ... started in N ms" line in the
     * log of container {@code name}; empty when the container or the line is not there.
     */
    OptionalLong handlerStartMs(String name) {
        StringBuilder out = new StringBuilder();
        try {
            ResultCallback.Adapter<Frame> callback = docker.logContainerCmd(name)
                    .withStdOut(true)
                    .withStdErr(true)
                    .withTail(20)
                    .exec(new ResultCallback.Adapter<>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
                        }
                    });
            if (!callback.awaitCompletion(5, TimeUnit.SECONDS)) {
                callback.close();
            }
        } catch (Exception e) {
            return OptionalLong.empty();
        }
        Matcher m = HANDLER_STARTED.matcher(out);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    @Override
    public void close() {
        try {
            docker.close();
        } catch (Exception e) {
            // nothing left to do
        }
    }
}
