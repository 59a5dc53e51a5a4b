package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;

import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
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
        if (settled(name + "-config") == null) {
            createOnce(new JsonObject()
                    .put("Name", name + "-config")
                    .put("ConfigOnly", true)
                    .put("Options", new JsonObject().put("com.docker.network.bridge.enable_icc", "false"))
                    .put("Labels", new JsonObject().put(MANAGED_LABEL, "true")));
        }
        JsonObject existing = settled(name);
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
     * Creates a network unless one of its name exists; its id, or null when another gateway made it
     * meanwhile. Gateways starting at once race here, and the engine does not settle the race: for a
     * config-only network, {@code CheckDuplicate} is a check before the create, so two creates can
     * both pass it and leave two networks of one name; for a swarm-scoped one, the manager refuses
     * the later create with 500 "name conflicts with an existing object". So a refused create whose
     * network is there now counts as made by another, and after a create the same-named networks are
     * settled on one (see {@link #settled}).
     */
    private String createOnce(JsonObject spec) {
        String name = spec.getString("Name");
        String id;
        try {
            id = ((JsonObject)
                            engine.api("POST", "/networks/create", spec.copy().put("CheckDuplicate", true)))
                    .getString("Id");
        } catch (EngineConnection.EngineRefusal refused) {
            if (refused.status == 409 || settled(name) != null) {
                return null;
            }
            throw refused;
        }
        JsonObject kept = settled(name);
        return kept != null && kept.getString("Id").equals(id) ? id : null;
    }

    /**
     * The network of this exact name, or null. When racing creates left several, every gateway keeps
     * the oldest (then the lowest id) and removes the others it finds: a gateway that saw only one saw
     * the oldest, so all go on with the same one, and one just made is used by nothing yet. Found by
     * listing, since asking the engine for an ambiguous name fails.
     */
    private JsonObject settled(String name) {
        JsonArray named = (JsonArray) engine.api(
                "GET",
                "/networks?filters="
                        + URLEncoder.encode(
                                new JsonObject()
                                        .put("name", new JsonArray().add(name))
                                        .encode(),
                                StandardCharsets.UTF_8),
                null);
        List<JsonObject> same = named.stream()
                .map(JsonObject.class::cast)
                .filter(network -> name.equals(network.getString("Name"))) // the filter matches substrings
                .sorted(Comparator.comparing((JsonObject network) -> Instant.parse(network.getString("Created")))
                        .thenComparing(network -> network.getString("Id")))
                .toList();
        if (same.isEmpty()) {
            return null;
        }
        for (JsonObject extra : same.subList(1, same.size())) {
            try {
                engine.api("DELETE", "/networks/" + extra.getString("Id"), null);
                LOG.info(
                        "removed network " + name + " (" + extra.getString("Id").substring(0, 12)
                                + "), made by a gateway that started at the same time as another");
            } catch (EngineConnection.EngineRefusal goneOrInUse) {
                // another gateway removed it first, or something joined it: the next start settles it
            }
        }
        return same.get(0);
    }
}
