package dev.berth.gateway.config;

/**
 * How to reach the Docker engine and where session containers live.
 *
 * @param host the engine's API address, e.g. unix:///var/run/docker.sock
 * @param network a bridge network created on demand with inter-container traffic disabled, so
 *     session containers cannot reach each other while the gateway reaches each of them
 * @param apiTimeout how long one engine call may take before it fails (not the event stream,
 *     which stays open however quiet the engine is)
 */
public record DockerConfig(String host, String network, java.time.Duration apiTimeout) {}
