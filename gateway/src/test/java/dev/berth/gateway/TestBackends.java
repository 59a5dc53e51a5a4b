package dev.berth.gateway;

import dev.berth.gateway.config.LauncherKind;

/**
 * What a test needs to see of backends behind the gateway, per launcher: how many run for a
 * session, how to kill one, and how to remove whatever a failed test left.
 */
public interface TestBackends extends AutoCloseable {

    /** Running backends of {@code route} for the session whose public key is {@code sessionKey}. */
    int running(String route, String sessionKey);

    /** Running backends of {@code route}, all sessions. */
    int running(String route);

    /** Where the gateway dials the session's backend, as host:port. */
    String address(String route, String sessionKey);

    /** Kills the session's backend outright (SIGKILL), as a crash would. */
    void kill(String route, String sessionKey);

    /** Removes every backend of {@code route}; returns how many were left. */
    int removeAll(String route);

    static TestBackends of(LauncherKind kind) {
        return switch (kind) {
            case DOCKER -> new DockerTestBackends();
            case SWARM -> new SwarmTestBackends();
            default -> new ProcessTestBackends();
        };
    }
}
