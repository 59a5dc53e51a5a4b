package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.DEFAULT_GATEWAY;
import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.POOL_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.SESSION_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.VERSION_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ownerOf;

import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerNetwork;
import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * What the docker launcher finds on its engine by looking: the containers of its routes it holds
 * no handle for (running ones to adopt, dead ones to remove), and the share other gateways hold.
 */
final class DockerDiscovery {

    /** Its lines are the docker launcher's, as they always were. */
    private static final Logger LOG = Logger.getLogger(DockerLauncher.class.getName());

    private final EngineConnection engine;
    private final DockerNetworks networks;
    private final HeldBackends held;
    private final KnownRoutes routes;
    private final String owner;
    /**
     * Whether another gateway's container was ever seen (by a count or an engine look), so a default
     * gateway, alone on its engine as a rule, counts other gateways' backends only from then on.
     */
    private volatile boolean othersSeen;

    DockerDiscovery(
            EngineConnection engine, DockerNetworks networks, HeldBackends held, KnownRoutes routes, String owner) {
        this.engine = engine;
        this.networks = networks;
        this.held = held;
        this.routes = routes;
        this.owner = owner;
    }

    /** Running containers of our routes this gateway holds no handle for, to adopt; dead ones are removed. */
    Future<List<Backend>> discover() {
        HeldBackends.Look look = held.look();
        return engine.blocking(() -> engine.docker
                        .listContainersCmd()
                        .withShowAll(true)
                        .withLabelFilter(Map.of(MANAGED_LABEL, "true"))
                        .exec())
                .map(containers -> {
                    List<Backend> found = new ArrayList<>();
                    for (Container container : containers) {
                        String name = nameOf(container);
                        // Other routes, or another gateway's containers: not ours to adopt (a client takes a session
                        // over).
                        boolean ours = routes.contains(container.getLabels().get(ROUTE_LABEL))
                                && ownerOf(name).equals(owner);
                        othersSeen = othersSeen || !ownerOf(name).equals(owner);
                        if (!ours || look.leavesAlone(container.getId(), name)) {
                            continue;
                        }
                        leftover(container, name).ifPresent(found::add);
                    }
                    return found;
                });
    }

    static String nameOf(Container container) {
        return container.getNames().length == 0 ? "" : container.getNames()[0].replaceFirst("^/", "");
    }

    /**
     * A running container becomes a handle to adopt. A dead one, or one created but never started
     * (its launch broke off), is garbage and removed.
     */
    private Optional<Backend> leftover(Container container, String name) {
        String state = container.getState() == null ? "" : container.getState();
        Map<String, String> labels = container.getLabels();
        String route = labels.get(ROUTE_LABEL);
        boolean pooled = "true".equals(labels.get(POOL_LABEL));
        // A pool container's session is in its name once claimed; before that it has none.
        String key = !pooled ? labels.get(SESSION_LABEL) : EngineLabels.sessionInName(name);
        String address = addressOf(container, routes.get(route));
        if (state.equals("running")
                && pooled
                && held.removedStale(container.getId(), name, key, labels.get(VERSION_LABEL), routes.get(route))) {
            return Optional.empty();
        }
        if (state.equals("running") && (key != null || pooled) && address != null) {
            SocketAddress at = SocketAddress.inetSocketAddress(routes.get(route).containerPort(), address);
            return Optional.of(held.handle(container.getId(), name, key, route, labels.get(VERSION_LABEL), at));
        }
        boolean launchBrokeOff = state.equals("created")
                && Instant.ofEpochSecond(container.getCreated())
                        .isBefore(Instant.now().minusSeconds(60));
        if (state.equals("exited") || state.equals("dead") || launchBrokeOff) {
            LOG.info("removing leftover container " + name + " (" + state + ")");
            removeDead(container.getId(), routes.get(route));
        }
        return Optional.empty();
    }

    /** A container's address on its route's network; null when it has none. */
    String addressOf(Container container, RouteConfig route) {
        if (container.getNetworkSettings() == null
                || container.getNetworkSettings().getNetworks() == null) {
            return null;
        }
        ContainerNetwork network = container.getNetworkSettings().getNetworks().get(networks.of(route));
        return network == null
                        || network.getIpAddress() == null
                        || network.getIpAddress().isEmpty()
                ? null
                : network.getIpAddress();
    }

    /** Other gateways' containers on our routes, counted; none looked for while no other gateway was ever seen. */
    Future<Elsewhere> heldElsewhere() {
        if (owner.equals(DEFAULT_GATEWAY) && !othersSeen) {
            return Future.succeededFuture(Elsewhere.NONE); // one gateway, as long as no other has shown up
        }
        return engine.blocking(() -> {
            Elsewhere.Tally counts = new Elsewhere.Tally();
            for (Container container : engine.docker
                    .listContainersCmd()
                    .withShowAll(true)
                    .withLabelFilter(Map.of(MANAGED_LABEL, "true"))
                    .exec()) {
                String name = nameOf(container);
                boolean taking = "running".equals(container.getState()) || "created".equals(container.getState());
                String route = container.getLabels().getOrDefault(ROUTE_LABEL, "");
                if (taking
                        && !ownerOf(name).equals(owner)
                        && routes.contains(route)) { // other routes: another deployment's
                    counts.count(route, ownerOf(name));
                }
            }
            Elsewhere found = counts.result();
            othersSeen = othersSeen || found.total() > 0;
            return found;
        });
    }

    /** Removes a container that is not running, in its network's turn. */
    void removeDead(String id, RouteConfig route) {
        engine.stopping(networks.of(route), Duration.ZERO, () -> {
            engine.forceRemove(id);
            return null;
        });
    }
}
