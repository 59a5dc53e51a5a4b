package dev.berth.gateway.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Sessions across all routes: what happens to them beyond one gateway process, and admission.
 *
 * @param onShutdown KEEP leaves every session's container running at shutdown, so a restarted (or
 *     upgraded) gateway re-adopts them and clients get their sessions back; END ends every session
 *     and removes its container
 * @param reapInterval how often the engine is checked for managed containers that belong to no
 *     live session (they are adopted and expire after the grace period) or that are dead (removed)
 * @param tokenSecretFile the key session tokens are signed with; made on first start if missing
 * @param maxSessions sessions the gateway holds at once over all routes
 * @param perClientMaxSessions sessions one client address may hold at once
 * @param perClientNewPerMinute new sessions one client address may open per minute (and at once)
 * @param perClientMaxStarting sessions one client address may have starting at once (launching or
 *     queued for a launch), so that one address cannot fill the launch queue everyone shares
 * @param perUserMaxSessions sessions one signed-in user may hold at once, over all routes and
 *     browsers (with {@code auth} only)
 * @param maxConcurrentLaunches backends being launched at once
 * @param launchQueue launches that may wait for a free slot; past it, new sessions get 503
 * @param drainDeadline at a graceful shutdown (SIGTERM), how long attached clients keep their pipes
 *     before they are told to reconnect; new connections are refused from the start
 * @param gatewayId this gateway's name among several on one engine: it adopts at start only the
 *     session containers it held, and takes others over when their clients come to it
 *     (docs/scale-out.md); {@code default} for a single gateway
 */
public record SessionsConfig(
        OnShutdown onShutdown,
        Duration reapInterval,
        Path tokenSecretFile,
        int maxSessions,
        int perClientMaxSessions,
        int perClientNewPerMinute,
        int perClientMaxStarting,
        int perUserMaxSessions,
        int maxConcurrentLaunches,
        int launchQueue,
        Duration drainDeadline,
        String gatewayId) {

    /** The same settings for the gateway called {@code id} (the {@code --gateway-id} flag). */
    public SessionsConfig withGatewayId(String id) {
        return new SessionsConfig(
                onShutdown,
                reapInterval,
                tokenSecretFile,
                maxSessions,
                perClientMaxSessions,
                perClientNewPerMinute,
                perClientMaxStarting,
                perUserMaxSessions,
                maxConcurrentLaunches,
                launchQueue,
                drainDeadline,
                id);
    }

    public enum OnShutdown {
        KEEP,
        END
    }
}
