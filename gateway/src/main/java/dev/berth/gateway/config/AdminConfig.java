package dev.berth.gateway.config;

import java.nio.file.Path;

/**
 * The admin listener: the operator's API, on its own address, behind a bearer token.
 *
 * @param host where it listens; loopback by default, so only this machine reaches it
 * @param port its port (0: any free port)
 * @param tokenFile the bearer token for every call; made on first start if missing, readable by the
 *     gateway's user only
 * @param readOnlyTokenFile a second token that may only read (GET): for dashboards, probes and people
 *     who look but do not change; made on first start like the first, beside it unless set
 * @param metrics whether {@code /metrics} is served here instead of on the public listener
 * @param tls the certificate and key to serve the admin API over https, or null for plain http
 */
public record AdminConfig(
        String host, int port, Path tokenFile, Path readOnlyTokenFile, boolean metrics, ListenConfig.Tls tls) {}
