package dev.berth.gateway.session;

import dev.berth.gateway.config.SessionsConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import java.util.HashMap;
import java.util.Map;

/**
 * Per client address: how many sessions it holds ({@code sessions.perClient.maxSessions}), how
 * many of them are starting ({@code sessions.perClient.maxStarting}) and how fast it opens new ones
 * ({@code sessions.perClient.newPerMinute}, a token bucket that holds a minute's worth). One
 * address cannot fill the gateway, nor the launch queue every client shares. Thread-safe: the edge's loops check it
 * before a request reaches the control loop, so a flood from one address is turned away where it
 * arrives ({@link #check}); the control loop admits ({@link #admit}) and releases.
 */
final class ClientAdmission {

    private static final class Bucket {
        double tokens;
        long updatedNanos;
    }

    private final SessionsConfig config;
    private final Map<String, Integer> sessions = new HashMap<>();
    private final Map<String, Integer> starting = new HashMap<>();
    private final Map<String, Bucket> buckets = new HashMap<>();

    ClientAdmission(SessionsConfig config) {
        this.config = config;
    }

    /** Fails with a 429 failure if {@code client} may not open a session now; takes nothing. */
    synchronized void check(String client) {
        requireRoom(client);
        requireStartRoom(client);
        if (refilled(client).tokens < 1) {
            throw new FailureException(
                    Failure.CLIENT_RATE_LIMIT,
                    client + " opened more than " + config.perClientNewPerMinute()
                            + " sessions in a minute (sessions.perClient.newPerMinute)");
        }
    }

    /** Admits one more session from {@code client}, or fails with a 429 failure. */
    synchronized void admit(String client) {
        check(client);
        refilled(client).tokens--;
        sessions.merge(client, 1, Integer::sum);
    }

    /**
     * Counts one more session for {@code client} whose request was admitted before (its rate
     * counted), or fails with a 429 failure if it holds its maximum meanwhile.
     */
    synchronized void hold(String client) {
        requireRoom(client);
        sessions.merge(client, 1, Integer::sum);
    }

    /**
     * Counts a session found on the engine at start for {@code client}, whose first connection since
     * came back: it is let in whatever the address holds (it held the session before).
     */
    synchronized void returned(String client) {
        sessions.merge(client, 1, Integer::sum);
    }

    /** Fails with a 429 failure if {@code client} has its maximum of sessions starting. */
    synchronized void requireStartRoom(String client) {
        if (starting.getOrDefault(client, 0) >= config.perClientMaxStarting()) {
            throw new FailureException(
                    Failure.CLIENT_START_LIMIT,
                    client + " has " + config.perClientMaxStarting()
                            + " sessions starting (sessions.perClient.maxStarting)");
        }
    }

    /** One more session of {@code client} is starting; call {@link #started} once its backend is up or failed. */
    synchronized void starting(String client) {
        starting.merge(client, 1, Integer::sum);
    }

    synchronized void started(String client) {
        starting.computeIfPresent(client, (address, count) -> count > 1 ? count - 1 : null);
    }

    private void requireRoom(String client) {
        if (sessions.getOrDefault(client, 0) >= config.perClientMaxSessions()) {
            throw new FailureException(
                    Failure.CLIENT_SESSION_LIMIT,
                    client + " holds " + config.perClientMaxSessions() + " sessions (sessions.perClient.maxSessions)");
        }
    }

    synchronized void released(String client) {
        sessions.computeIfPresent(client, (address, count) -> count > 1 ? count - 1 : null);
    }

    private Bucket refilled(String client) {
        long now = System.nanoTime();
        Bucket bucket = buckets.computeIfAbsent(client, address -> {
            Bucket fresh = new Bucket();
            fresh.tokens = config.perClientNewPerMinute();
            fresh.updatedNanos = now;
            return fresh;
        });
        double perNano = config.perClientNewPerMinute() / 60e9;
        bucket.tokens = Math.min(config.perClientNewPerMinute(), bucket.tokens + (now - bucket.updatedNanos) * perNano);
        bucket.updatedNanos = now;
        return bucket;
    }

    /** Sessions counted against client addresses, over all of them. */
    synchronized int slots() {
        return sessions.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Addresses holding at least one session. */
    synchronized int addresses() {
        return sessions.size();
    }

    /** Forgets full buckets of addresses holding no session, so many addresses cannot grow the maps. */
    synchronized void prune() {
        buckets.keySet()
                .removeIf(client -> !sessions.containsKey(client)
                        && !starting.containsKey(client)
                        && refilled(client).tokens >= config.perClientNewPerMinute());
    }
}
