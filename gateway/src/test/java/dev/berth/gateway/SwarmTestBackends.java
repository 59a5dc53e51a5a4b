package dev.berth.gateway;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Service;
import com.github.dockerjava.api.model.Task;
import com.github.dockerjava.api.model.TaskState;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Session services behind a test gateway on a swarm, found by their berth.* labels. */
public final class SwarmTestBackends implements TestBackends {

    private final DockerTestBackends engine = new DockerTestBackends();

    /** The services of {@code route} (of one session when {@code sessionKey} is not null). */
    public List<Service> services(String route, String sessionKey) {
        return engine
                .docker
                .listServicesCmd()
                .withLabelFilter(Map.of("berth.managed", "true", "berth.route", route))
                .exec()
                .stream()
                .filter(service -> sessionKey == null
                        || sessionKey.equals(service.getSpec().getLabels().get("berth.session")))
                .toList();
    }

    /** The service's newest task; none once the service is gone. */
    public Optional<Task> taskOf(Service service) {
        try {
            return engine.docker.listTasksCmd().withServiceFilter(service.getId()).exec().stream()
                    .max(Comparator.comparing(Task::getCreatedAt));
        } catch (NotFoundException removedMeanwhile) {
            return Optional.empty();
        }
    }

    /** The container running the session's task, on this node. */
    public String containerOf(String route, String sessionKey) {
        return taskOf(services(route, sessionKey).get(0))
                .orElseThrow()
                .getStatus()
                .getContainerStatus()
                .getContainerID();
    }

    @Override
    public int running(String route, String sessionKey) {
        return (int) services(route, sessionKey).stream()
                .filter(service -> taskOf(service)
                        .map(task -> task.getStatus().getState() == TaskState.RUNNING)
                        .orElse(false))
                .count();
    }

    @Override
    public int running(String route) {
        return services(route, null).size();
    }

    @Override
    public String address(String route, String sessionKey) {
        var container = engine.docker
                .inspectContainerCmd(containerOf(route, sessionKey))
                .exec();
        return container.getNetworkSettings().getNetworks().get("berth-swarm").getIpAddress() + ":8080";
    }

    /** Task containers of {@code route} on this node, running or not. */
    public int containers(String route) {
        return engine.containers(route, null, true).size();
    }

    @Override
    public void kill(String route, String sessionKey) {
        engine.docker.killContainerCmd(containerOf(route, sessionKey)).exec();
    }

    @Override
    public int removeAll(String route) {
        List<Service> left = services(route, null);
        left.forEach(service -> engine.docker.removeServiceCmd(service.getId()).exec());
        // The swarm removes a service's task containers a moment after the service: wait for them, so
        // that what a test made is gone when it ends (the run's last sweep found some still there).
        try {
            Await.until(
                    () -> engine.docker
                            .listContainersCmd()
                            .withShowAll(true)
                            .withLabelFilter(Map.of("berth.managed", "true", "berth.route", route))
                            .exec()
                            .isEmpty(),
                    30_000,
                    "the task containers of route " + route + " removed after their services");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return left.size();
    }

    @Override
    public void close() throws Exception {
        engine.close();
    }
}
