package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/** The docker launcher's session networks: which one a route's containers join, and making sure it is as needed. */
final class DockerNetworks {

    /** Its lines are the docker launcher's, as they always were. */
    private static final Logger LOG = Logger.getLogger(DockerLauncher.class.getName());

    private final DockerClient docker;
    private final DockerConfig config;

    DockerNetworks(DockerClient docker, DockerConfig config) {
        this.docker = docker;
        this.config = config;
    }

    /** The network of {@code route}'s containers; {@code docker.network} for a route this gateway never ran. */
    String of(RouteConfig route) {
        return route == null
                ? config.network()
                : SandboxSpec.networkFor(config.network(), route.sandbox().egress());
    }

    /** Blocking: makes sure every network of {@code routes} exists as needed; the host's interfaces for them. */
    List<String> ensure(List<RouteConfig> routes) {
        return routes.stream()
                .map(this::of)
                .distinct()
                .map(network -> ensure(network, network.equals(config.network())))
                .toList();
    }

    /**
     * Makes sure a routes' network exists as Berth needs it: a bridge with inter-container traffic
     * off, internal unless it is the egress one. One left by an older Berth with other settings is
     * made again while no container uses it; otherwise the gateway refuses to start rather than run
     * sessions less isolated than configured.
     *
     * @return the host's interface for the network, for {@link HostIsolation}
     */
    private String ensure(String name, boolean internal) {
        var existing = docker.listNetworksCmd().withNameFilter(name).exec().stream()
                .filter(network -> network.getName().equals(name))
                .findFirst();
        if (existing.isPresent()) {
            var network = docker.inspectNetworkCmd()
                    .withNetworkId(existing.get().getId())
                    .exec();
            boolean isolated = "false".equals(network.getOptions().get("com.docker.network.bridge.enable_icc"))
                    && Boolean.TRUE.equals(network.getInternal()) == internal;
            if (isolated) {
                return HostIsolation.bridgeInterface(network.getId(), network.getOptions());
            }
            if (network.getContainers() != null && !network.getContainers().isEmpty()) {
                throw new FailureException(
                        Failure.START_FAILED,
                        "network " + name + " exists with other isolation settings"
                                + " and containers use it; stop them, remove it (docker network rm " + name
                                + "), and start again");
            }
            docker.removeNetworkCmd(network.getId()).exec();
            LOG.info("removed network " + name + ": it had other isolation settings than Berth needs");
        }
        String id;
        try {
            id = docker.createNetworkCmd()
                    .withName(name)
                    .withDriver("bridge")
                    .withInternal(internal)
                    .withOptions(Map.of("com.docker.network.bridge.enable_icc", "false"))
                    .withLabels(Map.of(MANAGED_LABEL, "true"))
                    .withCheckDuplicate(true) // two gateways starting at once make one network, not two of one name
                    .exec()
                    .getId();
        } catch (ConflictException madeMeanwhile) {
            return ensure(name, internal); // another gateway made it first: check it as found
        }
        LOG.info("created network " + name + " (bridge, containers cannot reach each other"
                + (internal ? ", no route off the machine)" : ", outbound traffic allowed)"));
        return HostIsolation.bridgeInterface(id, Map.of());
    }
}
