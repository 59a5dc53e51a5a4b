package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;

import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.logging.Logger;

/** The swarm launcher's session networks: which one a route's tasks join, and making sure it is as needed. */
final class SwarmNetworks {

    /** Its lines are the swarm launcher's, as they always were. */
    private static final Logger LOG = Logger.getLogger(SwarmLauncher.class.getName());

    private final EngineConnection engine;
    private final DockerConfig.Swarm config;

    SwarmNetworks(EngineConnection engine, DockerConfig.Swarm config) {
        this.engine = engine;
        this.config = config;
    }

    /** The network of the tasks of routes with {@code egress}. */
    String of(RouteConfig.Egress egress) {
        return SandboxSpec.networkFor(config.network(), egress);
    }

    /**
     * The swarm network a route's tasks join: a bridge on each node, its options (inter-container
     * traffic off) from a config-only network of this node. Other nodes need that config-only network
     * too before tasks can run there (docs/scale-out.md). Blocking.
     *
     * @return the host's interface for the network on this node, for {@link HostIsolation}
     */
    String ensure(RouteConfig.Egress egress) {
        String name = of(egress);
        boolean internal = egress == RouteConfig.Egress.NONE;
        if (network(name + "-config") == null) {
            createOnce(new JsonObject()
                    .put("Name", name + "-config")
                    .put("ConfigOnly", true)
                    .put("Options", new JsonObject().put("com.docker.network.bridge.enable_icc", "false"))
                    .put("Labels", new JsonObject().put(MANAGED_LABEL, "true")));
        }
        JsonObject existing = network(name);
        if (existing != null) {
            boolean asNeeded = "swarm".equals(existing.getString("Scope"))
                    && (name + "-config")
                            .equals(existing.getJsonObject("ConfigFrom", new JsonObject())
                                    .getString("Network"))
                    && existing.getBoolean("Internal", false) == internal;
            if (!asNeeded) {
                throw new FailureException(
                        Failure.START_FAILED,
                        "network " + name + " exists with other settings than the"
                                + " swarm launcher needs; remove it (docker network rm " + name
                                + ") once no service uses it, and start"
                                + " again");
            }
            return HostIsolation.bridgeInterface(existing.getString("Id"), Map.of());
        }
        String id = createOnce(new JsonObject()
                .put("Name", name)
                .put("Driver", "bridge")
                .put("Scope", "swarm")
                .put("Internal", internal)
                .put("ConfigFrom", new JsonObject().put("Network", name + "-config")));
        if (id == null) {
            return ensure(egress); // another gateway made it first: check it as found
        }
        LOG.info("created swarm network " + name + " (a bridge on each node, tasks cannot reach each other"
                + (internal ? ", no route off the machine)" : ", outbound traffic allowed)"));
        return HostIsolation.bridgeInterface(id, Map.of());
    }

    /**
     * Creates a network unless one of its name exists (two gateways starting at once make one, not
     * two of one name); its id, or null when another gateway made it meanwhile.
     */
    private String createOnce(JsonObject spec) {
        try {
            return ((JsonObject)
                            engine.api("POST", "/networks/create", spec.copy().put("CheckDuplicate", true)))
                    .getString("Id");
        } catch (EngineConnection.EngineRefusal exists) {
            if (exists.status == 409) {
                return null;
            }
            throw exists;
        }
    }

    private JsonObject network(String name) {
        try {
            return (JsonObject) engine.api("GET", "/networks/" + name, null);
        } catch (EngineConnection.EngineRefusal notThere) {
            if (notThere.status == 404) {
                return null;
            }
            throw notThere;
        }
    }
}
