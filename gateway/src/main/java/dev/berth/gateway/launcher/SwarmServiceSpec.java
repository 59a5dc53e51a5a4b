package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.GATEWAY_LABEL;

import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;

/**
 * The swarm service a session runs as: one task, never restarted, with the route's sandbox and
 * limits, on the route's network, held by this gateway (its {@code berth.gateway} label), and
 * reachable as {@code docker.swarm.dial} says.
 */
final class SwarmServiceSpec {

    private SwarmServiceSpec() {}

    /**
     * @param network the swarm network of the route's tasks
     * @param nodeId this gateway's node, where tasks dialled at their own address are placed
     */
    static JsonObject of(
            String name,
            LaunchRequest request,
            String owner,
            DockerConfig.Swarm config,
            String network,
            String nodeId) {
        RouteConfig route = request.route();
        SandboxSpec sandbox = SandboxSpec.of(route);
        JsonObject labels = new JsonObject(new LinkedHashMap<>(EngineLabels.of(request))).put(GATEWAY_LABEL, owner);
        JsonObject container = new JsonObject()
                .put("Image", route.image())
                .put("Labels", labels.copy())
                .put(
                        "Env",
                        new JsonArray(HandlerEnvironment.of(request, route.containerPort())
                                .asList()))
                .put("User", sandbox.user())
                .put("ReadOnly", sandbox.readOnlyRoot())
                .put("CapabilityDrop", new JsonArray().add(SandboxSpec.DROPPED_CAPABILITIES))
                .put("StopGracePeriod", route.timeouts().stop().toNanos());
        if (sandbox.readOnlyRoot()) {
            container.put(
                    "Mounts",
                    new JsonArray()
                            .add(new JsonObject()
                                    .put("Type", "tmpfs")
                                    .put("Target", SandboxSpec.SCRATCH)
                                    .put(
                                            "TmpfsOptions",
                                            new JsonObject()
                                                    .put("SizeBytes", sandbox.tmpfsBytes())
                                                    .put("Mode", 01777))));
        }
        JsonObject task = new JsonObject()
                .put("ContainerSpec", container)
                .put(
                        "Resources",
                        new JsonObject()
                                .put(
                                        "Limits",
                                        new JsonObject()
                                                .put("MemoryBytes", sandbox.memoryBytes())
                                                .put("NanoCPUs", sandbox.nanoCpus())
                                                .put("Pids", sandbox.pids())))
                .put("RestartPolicy", new JsonObject().put("Condition", "none"))
                .put("Networks", new JsonArray().add(new JsonObject().put("Target", network)));
        JsonObject spec = new JsonObject()
                .put("Name", name)
                .put("Labels", labels)
                .put("TaskTemplate", task)
                .put("Mode", new JsonObject().put("Replicated", new JsonObject().put("Replicas", 1)));
        if (config.dial() == DockerConfig.Dial.TASK) {
            task.put("Placement", new JsonObject().put("Constraints", new JsonArray().add("node.id==" + nodeId)));
        } else {
            spec.put(
                    "EndpointSpec",
                    new JsonObject()
                            .put(
                                    "Ports",
                                    new JsonArray()
                                            .add(new JsonObject()
                                                    .put("Protocol", "tcp")
                                                    .put("TargetPort", route.containerPort())
                                                    .put("PublishMode", "host"))));
        }
        return spec;
    }
}
