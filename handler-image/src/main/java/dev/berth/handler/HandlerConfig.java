package dev.berth.handler;

import java.util.Map;

/**
 * The handler's settings, read from the environment the gateway gives each session container.
 *
 * @param host          BERTH_HOST, the address to listen on (default 0.0.0.0; the process
 *                      launcher passes 127.0.0.1 so a handler on the host is not exposed)
 * @param session       BERTH_SESSION, the session's public key (default "local"); null with
 *                      BERTH_POOL=1: a warm-pool handler learns its session when it is claimed
 * @param version       BERTH_VERSION, reported in hello and state replies (default "dev")
 * @param port          BERTH_PORT, the HTTP/websocket port; 0 picks a free one (default 8080)
 * @param idleGraceMs   BERTH_IDLE_GRACE_MS, how long the process may run with no websocket
 *                      connected before it exits (default 60000)
 * @param feedPerSecond BERTH_FEED_PER_SECOND, the initial listing events per second of each
 *                      connection, 0 for none (default 2)
 * @param testHooks     BERTH_TEST_HOOKS=1: the gateway's test commands (close, leak, probe) are
 *                      served; off by default, so no client of a real session can make its
 *                      container leak memory or probe the network
 * @param user          BERTH_USER, the signed-in user the session serves, set by a gateway that signs
 *                      users in (null otherwise; a pooled handler learns it from its claim)
 */
public record HandlerConfig(
        String host,
        String session,
        String version,
        int port,
        long idleGraceMs,
        int feedPerSecond,
        boolean testHooks,
        String user) {

    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final String DEFAULT_SESSION = "local";
    public static final String DEFAULT_VERSION = "dev";
    public static final int DEFAULT_PORT = 8080;
    public static final long DEFAULT_IDLE_GRACE_MS = 60_000;
    public static final int DEFAULT_FEED_PER_SECOND = 2;
    /** The highest feed rate the env or a feed command may ask for. */
    public static final int MAX_FEED_PER_SECOND = 1000;
    /** Longest idle grace accepted: one week. */
    public static final long MAX_IDLE_GRACE_MS = 7L * 24 * 3600 * 1000;

    private static final int MAX_TEXT_LENGTH = 256;

    /** A setting the handler cannot run with; the message names the variable and what is accepted. */
    public static final class InvalidConfig extends Exception {
        InvalidConfig(String variable, String value, String problem, String accepted) {
            super("invalid " + variable + "=\"" + value + "\": " + problem + "; accepted: " + accepted);
        }
    }

    public HandlerConfig {
        if (feedPerSecond < 0 || feedPerSecond > MAX_FEED_PER_SECOND) {
            throw new IllegalArgumentException("feedPerSecond out of range: " + feedPerSecond);
        }
        if (idleGraceMs < 1) {
            throw new IllegalArgumentException("idleGraceMs must be at least 1: " + idleGraceMs);
        }
    }

    /** Reads the BERTH_* variables from {@code env}, using the defaults for unset ones. */
    public static HandlerConfig fromEnv(Map<String, String> env) throws InvalidConfig {
        String host = text(env, "BERTH_HOST", DEFAULT_HOST);
        boolean pooled = "1".equals(env.get("BERTH_POOL"));
        String session = pooled ? null : text(env, "BERTH_SESSION", DEFAULT_SESSION);
        String version = text(env, "BERTH_VERSION", DEFAULT_VERSION);
        int port = (int)
                number(env, "BERTH_PORT", DEFAULT_PORT, 0, 65535, "an integer from 0 to 65535 (0 picks a free port)");
        long idleGrace = number(
                env,
                "BERTH_IDLE_GRACE_MS",
                DEFAULT_IDLE_GRACE_MS,
                1,
                MAX_IDLE_GRACE_MS,
                "an integer number of milliseconds from 1 to " + MAX_IDLE_GRACE_MS);
        int feed = (int) number(
                env,
                "BERTH_FEED_PER_SECOND",
                DEFAULT_FEED_PER_SECOND,
                0,
                MAX_FEED_PER_SECOND,
                "an integer from 0 (no feed) to " + MAX_FEED_PER_SECOND);
        boolean testHooks = "1".equals(env.get("BERTH_TEST_HOOKS"));
        return new HandlerConfig(host, session, version, port, idleGrace, feed, testHooks, env.get("BERTH_USER"));
    }

    private static String text(Map<String, String> env, String name, String fallback) throws InvalidConfig {
        String value = env.get(name);
        if (value == null) {
            return fallback;
        }
        String accepted = "a non-blank string of at most " + MAX_TEXT_LENGTH + " characters without control characters";
        if (value.isBlank()) {
            throw new InvalidConfig(name, value, "blank", accepted);
        }
        if (value.length() > MAX_TEXT_LENGTH) {
            throw new InvalidConfig(
                    name, value.substring(0, 32) + "...", value.length() + " characters long", accepted);
        }
        // A plain loop rather than a stream or a regex: this runs on every start.
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new InvalidConfig(name, masked(value), "contains control characters", accepted);
            }
        }
        return value;
    }

    /** {@code value} with its control characters shown as '?'. */
    private static String masked(String value) {
        StringBuilder shown = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            shown.append(Character.isISOControl(c) ? '?' : c);
        }
        return shown.toString();
    }

    private static long number(Map<String, String> env, String name, long fallback, long min, long max, String accepted)
            throws InvalidConfig {
        String value = env.get(name);
        if (value == null) {
            return fallback;
        }
        long parsed;
        try {
            parsed = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidConfig(name, value, "not an integer", accepted);
        }
        if (parsed < min || parsed > max) {
            throw new InvalidConfig(name, value, "out of range", accepted);
        }
        return parsed;
    }

    /** The same settings with another port (tests use 0 for a free one). */
    public HandlerConfig withPort(int newPort) {
        return new HandlerConfig(host, session, version, newPort, idleGraceMs, feedPerSecond, testHooks, user);
    }

    /** The same settings with another idle grace. */
    public HandlerConfig withIdleGraceMs(long newIdleGraceMs) {
        return new HandlerConfig(host, session, version, port, newIdleGraceMs, feedPerSecond, testHooks, user);
    }

    /** The same settings with another initial feed rate. */
    public HandlerConfig withFeedPerSecond(int newFeedPerSecond) {
        return new HandlerConfig(host, session, version, port, idleGraceMs, newFeedPerSecond, testHooks, user);
    }

    /** The same settings with the test commands served or not. */
    public HandlerConfig withTestHooks(boolean on) {
        return new HandlerConfig(host, session, version, port, idleGraceMs, feedPerSecond, on, user);
    }
}
