package dev.berth.gateway.session;

/**
 * What an operator sees of a session (admin API).
 *
 * @param version the route's version (pinned at the session's start)
 * @param fromClient data bytes its clients sent the backend, over all connections
 * @param toClient data bytes its backend sent, over all connections
 * @param client the address it was opened from (as forwarded by a trusted proxy), or null for a session
 *     found on the engine whose client is not back yet
 * @param user the signed-in user it serves, or null
 */
public record SessionSnapshot(
        String key,
        String route,
        String version,
        SessionState state,
        long ageSeconds,
        long fromClient,
        long toClient,
        String client,
        String user) {

    SessionSnapshot from(Caller caller) {
        return caller == null
                ? this
                : new SessionSnapshot(
                        key,
                        route,
                        version,
                        state,
                        ageSeconds,
                        fromClient,
                        toClient,
                        caller.address(),
                        caller.user() == null ? null : caller.user().name());
    }
}
