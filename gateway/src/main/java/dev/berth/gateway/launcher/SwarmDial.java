package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.SwarmServices.TASK_ENDED;
import static dev.berth.gateway.launcher.SwarmServices.why;

import com.github.dockerjava.api.model.ContainerNetwork;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** Where the gateway dials a swarm task, as {@code docker.swarm.dial} says, once the task runs. */
final class SwarmDial {

    private static final long TASK_POLL_MS = 100;

    private final Vertx vertx;
    private final EngineConnection engine;
    private final SwarmServices services;
    private final DockerConfig.Swarm config;
    /** Node addresses by node id, for tasks dialled at a published port. */
    private final Map<String, String> nodeAddresses = new HashMap<>();

    SwarmDial(Vertx vertx, EngineConnection engine, SwarmServices services, DockerConfig.Swarm config) {
        this.vertx = vertx;
        this.engine = engine;
        this.services = services;
        this.config = config;
    }

    /** Completes with the task's address once it runs; fails as soon as it ends or the deadline passes. */
    Future<SocketAddress> running(String serviceId, RouteConfig route, Instant deadline) {
        return engine.blocking(() -> services.taskOf(serviceId)).compose(task -> {
            String state = task == null
                    ? "new"
                    : task.getJsonObject("Status", new JsonObject()).getString("State", "new");
            if (state.equals("running")) {
                return engine.blocking(() -> addressOf(task, route));
            }
            if (TASK_ENDED.contains(state)) {
                return Future.failedFuture(
                        new FailureException(Failure.START_FAILED, "its task is " + state + ": " + why(task)));
            }
            if (Instant.now().isAfter(deadline)) {
                return Future.failedFuture(new FailureException(
                        Failure.START_TIMEOUT,
                        "its task is still " + state + (task == null ? "" : " (" + why(task) + ")")));
            }
            Promise<Void> later = Promise.promise();
            vertx.setTimer(TASK_POLL_MS, id -> later.complete());
            return later.future().compose(v -> running(serviceId, route, deadline));
        });
    }

    /** Blocking: where the gateway dials a running task. */
    SocketAddress addressOf(JsonObject task, RouteConfig route) {
        JsonObject status = task.getJsonObject("Status", new JsonObject());
        if (config.dial() == DockerConfig.Dial.PUBLISHED) {
            JsonArray ports =
                    status.getJsonObject("PortStatus", new JsonObject()).getJsonArray("Ports", new JsonArray());
            if (ports.isEmpty()) {
                throw new FailureException(Failure.UNREACHABLE, "task " + task.getString("ID") + " publishes no port");
            }
            return SocketAddress.inetSocketAddress(
                    ports.getJsonObject(0).getInteger("PublishedPort"), nodeAddress(task.getString("NodeID")));
        }
        String containerId =
                status.getJsonObject("ContainerStatus", new JsonObject()).getString("ContainerID");
        ContainerNetwork network = containerId == null
                ? null
                : engine.docker
                        .inspectContainerCmd(containerId)
                        .exec()
                        .getNetworkSettings()
                        .getNetworks()
                        .get(SandboxSpec.networkFor(
                                config.network(), route.sandbox().egress()));
        if (network == null
                || network.getIpAddress() == null
                || network.getIpAddress().isEmpty()) {
            throw new FailureException(
                    Failure.UNREACHABLE,
                    "task " + task.getString("ID") + " has no address on "
                            + SandboxSpec.networkFor(
                                    config.network(), route.sandbox().egress()));
        }
        return SocketAddress.inetSocketAddress(route.containerPort(), network.getIpAddress());
    }

    private String nodeAddress(String node) {
        synchronized (nodeAddresses) {
            return nodeAddresses.computeIfAbsent(
                    node,
                    id -> ((JsonObject) engine.api("GET", "/nodes/" + id, null))
                            .getJsonObject("Status")
                            .getString("Addr"));
        }
    }
}
