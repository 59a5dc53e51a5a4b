package dev.berth.gateway.config;

import java.nio.file.Path;

/**
 * The admin listener: the operator's API, on its own address, behind a bearer token.
 *
 * @param host where it listens; loopback by default, so only this machine reaches it
 * @param port its port (0: any free port)
 * @param tokenFile the bearer token; made on first start if missing, readable by the gateway's user only
 * @param metrics whether {@code /metrics} is served here instead of on the public listener
 */
public record AdminConfig(String host, int port, Path tokenFile, boolean metrics) {}
