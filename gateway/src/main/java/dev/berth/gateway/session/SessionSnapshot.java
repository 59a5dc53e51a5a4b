package dev.berth.gateway.session;

/**
 * What an operator sees of a session (admin API).
 *
 * @param version the route's version (pinned at the session's start)
 * @param fromClient data bytes its clients sent the backend, over all connections
 * @param toClient data bytes its backend sent, over all connections
 */
public record SessionSnapshot(
        String key,
        String route,
        String version,
        SessionState state,
        long ageSeconds,
        long fromClient,
        long toClient) {}
