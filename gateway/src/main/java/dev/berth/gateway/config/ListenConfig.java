package dev.berth.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where the edge listens, and the limits every client connection is held to.
 *
 * @param maxFrameBytes the largest websocket frame accepted from a client or a backend (1009)
 * @param maxMessageBytes the largest websocket message, counted across its fragments (1009)
 * @param maxHeaderBytes the largest handshake request line plus headers (431)
 * @param handshakeTimeout a connection that has not sent a whole request by then is closed
 * @param idleTimeout a connection with no traffic either way for this long is closed; attached
 *     websockets are pinged more often than this, so only dead ones are
 * @param maxConnections open client connections at once; past it, requests get 503
 * @param maxConnectionsPerClient open connections from one client address; past it, its requests get 429
 * @param eventLoops the data loops: the edge listens and frames travel on each (default: one per
 *     core; docs/architecture.md "Event loops")
 * @param allowedOrigins browser origins allowed to open websockets besides the gateway's own
 *     ({@code *} allows any); requests without an Origin header (not browsers) are allowed
 * @param tls the certificate and key to serve https and wss with, or null for plain http
 * @param trustedProxies the peers whose forwarding headers (and PROXY protocol header) are believed:
 *     from them the client's address, scheme and host are the ones they forward (docs/security.md)
 * @param proxyProtocol whether every connection starts with a PROXY protocol v1 or v2 header (a TCP
 *     load balancer in front), believed from trusted proxies only
 */
public record ListenConfig(
        String host,
        int port,
        int maxFrameBytes,
        int maxMessageBytes,
        int maxHeaderBytes,
        Duration handshakeTimeout,
        Duration idleTimeout,
        int maxConnections,
        int maxConnectionsPerClient,
        int eventLoops,
        List<String> allowedOrigins,
        Tls tls,
        List<Cidr> trustedProxies,
        boolean proxyProtocol) {

    /** PEM files, read at start; the gateway marks its cookies Secure when it serves TLS. */
    public record Tls(Path certificate, Path key) {}

    public ListenConfig withPort(int newPort) {
        return new ListenConfig(
                host,
                newPort,
                maxFrameBytes,
                maxMessageBytes,
                maxHeaderBytes,
                handshakeTimeout,
                idleTimeout,
                maxConnections,
                maxConnectionsPerClient,
                eventLoops,
                allowedOrigins,
                tls,
                trustedProxies,
                proxyProtocol);
    }
}
