package dev.berth.gateway;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Containers behind a test gateway, found by their berth.* labels. */
public final class DockerTestBackends implements TestBackends {

    public final DockerClient docker;

    public DockerTestBackends() {
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost("unix:///var/run/docker.sock")
                .build();
        docker = DockerClientImpl.getInstance(
                config,
                new ApacheDockerHttpClient.Builder()
                        .dockerHost(config.getDockerHost())
                        .build());
    }

    /**
     * The containers of {@code route} (of one session when {@code sessionKey} is not null): by its
     * label, or by its name for a session served from the warm pool, whose container was created
     * before the session and named after it when claimed.
     */
    public List<Container> containers(String route, String sessionKey, boolean includeStopped) {
        Map<String, String> labels = new HashMap<>(Map.of("berth.managed", "true", "berth.route", route));
        return docker.listContainersCmd().withShowAll(includeStopped).withLabelFilter(labels).exec().stream()
                .filter(c -> sessionKey == null
                        || sessionKey.equals(c.getLabels().get("berth.session"))
                        || ("/berth-" + route + "-" + sessionKey).equals(c.getNames()[0]))
                .toList();
    }

    @Override
    public int running(String route, String sessionKey) {
        return containers(route, sessionKey, false).size();
    }

    @Override
    public int running(String route) {
        return containers(route, null, true).size();
    }

    @Override
    public String address(String route, String sessionKey) {
        Container container = containers(route, sessionKey, false).get(0);
        return container
                        .getNetworkSettings()
                        .getNetworks()
                        .get("berth-sessions")
                        .getIpAddress() + ":8080";
    }

    @Override
    public void kill(String route, String sessionKey) {
        containers(route, sessionKey, false)
                .forEach(c -> docker.killContainerCmd(c.getId()).exec());
    }

    @Override
    public int removeAll(String route) {
        List<Container> left = containers(route, null, true);
        left.forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).exec());
        return left.size();
    }

    @Override
    public void close() throws Exception {
        docker.close();
    }
}
