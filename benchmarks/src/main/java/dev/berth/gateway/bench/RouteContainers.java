package dev.berth.gateway.bench;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The containers labelled with the benchmark's route, seen through the Docker engine: which were there before
 * the run (left alone), and which of this run's sessions are still there after the gateway stopped (removed).
 * Each method returns notes for the report rather than failing: the engine is checked, not needed.
 */
final class RouteContainers {

    private static final String ROUTE = GatewayProcess.ROUTE;

    private String engineVersion = "unreachable";
    private Set<String> existingBefore = Set.of();

    /** Remembers the route's containers that exist before the run, so that they are neither counted nor removed. */
    List<String> recordExisting() {
        Set<String> ids = new HashSet<>();
        try (DockerClient docker = connect()) {
            engineVersion = docker.versionCmd().exec().getVersion();
            list(docker).forEach(c -> ids.add(c.getId()));
        } catch (Exception e) {
            return List.of("Docker engine not reachable before the run (" + e.getMessage() + ")");
        }
        existingBefore = ids;
        if (ids.isEmpty()) {
            return List.of();
        }
        return List.of(ids.size() + " container(s) labelled berth.route=" + ROUTE
                + " existed before the run; they are not counted and were left alone");
    }

    /** Removes the containers of {@code sessionKeys} still there after the gateway exited, and names any others. */
    List<String> removeLeftovers(Set<String> sessionKeys) {
        List<String> notes = new ArrayList<>();
        try (DockerClient docker = connect()) {
            List<Container> left = new ArrayList<>();
            List<Container> foreign = new ArrayList<>();
            for (Container c : list(docker)) {
                if (existingBefore.contains(c.getId())) {
                    continue;
                }
                String key = c.getLabels() == null ? "" : c.getLabels().getOrDefault("berth.session", "");
                // a hello without a session field must not match unlabelled containers
                boolean ofThisRun = !key.isEmpty() && sessionKeys.contains(key);
                (ofThisRun ? left : foreign).add(c);
            }
            if (left.isEmpty()) {
                notes.add("no container of this run left (docker ps -a --filter label=berth.route=" + ROUTE + ")");
            } else {
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
                notes.add("**" + left.size()
                        + " container(s) of this run were left after the gateway exited; the benchmark"
                        + " removed them**: " + names(left));
            }
            if (!foreign.isEmpty()) {
                notes.add(foreign.size() + " other container(s) with berth.route=" + ROUTE
                        + " appeared during the run (not launched by this gateway; left alone): " + names(foreign));
            }
        } catch (Exception e) {
            notes.add("could not check for leftover containers: " + e);
        }
        return notes;
    }

    /** The engine's version, or "unreachable" when {@link #recordExisting} could not ask it. */
    String engineVersion() {
        return engineVersion;
    }

    private static List<Container> list(DockerClient docker) {
        return docker.listContainersCmd()
                .withShowAll(true)
                .withLabelFilter(Map.of("berth.route", ROUTE))
                .exec();
    }

    private static String names(List<Container> containers) {
        List<String> names = new ArrayList<>();
        containers.forEach(c -> names.add(
                c.getNames() == null
                        ? c.getId().substring(0, 12)
                        : String.join(",", c.getNames()) + " (" + c.getState() + ")"));
        return String.join(" ", names);
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
