package dev.berth.gateway.config;

/**
 * How to reach the Docker engine and where session containers live.
 *
 * @param host the engine's API address, e.g. unix:///var/run/docker.sock
 * @param network a bridge network created on demand with inter-container traffic disabled, so
 *     session containers cannot reach each other while the gateway reaches each of them
 * @param apiTimeout how long one engine call may take before it fails (not the event stream,
 *     which stays open however quiet the engine is)
 * @param stallAfter an engine call running longer than this (plus the stop timeout, for a stop)
 *     means the engine is stalled: new sessions get 503 until it answers again
 * @param stopsPerNetwork container stops and removals at once on one network; more wait their turn
 * @param swarm how the swarm launcher runs sessions
 */
public record DockerConfig(
        String host,
        String network,
        java.time.Duration apiTimeout,
        java.time.Duration stallAfter,
        int stopsPerNetwork,
        Swarm swarm) {

    /**
     * @param network a swarm-scoped bridge, made from a per-node config-only network with
     *     inter-container traffic off: each node keeps its session tasks apart as the docker
     *     launcher does (overlay networks cannot)
     * @param dial how the gateway reaches a session's task
     */
    public record Swarm(String network, Dial dial) {}

    /** How the gateway reaches a session's task. */
    public enum Dial {
        /**
         * At the task's address on the sessions network: the task is placed on the gateway's own node
         * (its bridge is not reachable from other nodes); works with internal networks.
         */
        TASK,
        /**
         * At a port the task publishes in host mode, on the address of whichever node the scheduler
         * placed it on: sessions spread over the cluster. Needs {@code egress: open} (an internal
         * network publishes no port), and a firewall keeping the published ports to the gateways.
         */
        PUBLISHED
    }
}
