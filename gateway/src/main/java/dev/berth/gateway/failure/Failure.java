package dev.berth.gateway.failure;

import java.util.Locale;

/**
 * Every way Berth refuses a connection or ends a session, in one place: the tag used in logs and
 * metric labels, the HTTP status of a refused handshake, the close code and the public reason a
 * client sees, and whether a retry later can succeed (503 with {@code Retry-After}).
 *
 * <p>Public reasons are fixed sentences fit for a client. Details that name containers, addresses
 * or settings go to the log only. docs/sessions.md lists the same table for users.
 */
public enum Failure {
    // Refusals: the handshake is answered with an HTTP status and nothing is launched or kept. Those
    // a launch can still meet once a client that asked for progress was accepted carry the close
    // code it then gets; admission's own refusals all come before any handshake.
    /** A plain HTTP request on a websocket path. */
    NOT_WEBSOCKET(426, 0, "this is a websocket endpoint: connect with a websocket client"),
    /** A browser page from an origin not in listen.allowedOrigins. */
    FORBIDDEN_ORIGIN(403, 0, "websockets from this origin are not allowed"),
    /** A session token that is malformed, forged, tampered with, expired or for another route. */
    INVALID_TOKEN(401, 0, "the session token is not valid: connect again without it for a new session"),
    /** With auth: the request names no signed-in user (no header from a trusted proxy, no valid token). */
    UNAUTHENTICATED(401, 0, "sign in first: this gateway serves signed-in users only"),
    /** This client address holds its maximum number of open connections (listen.maxConnectionsPerClient). */
    CLIENT_CONNECTION_LIMIT(429, 0, "too many connections from this address"),
    /** The gateway holds its maximum number of open connections (listen.maxConnections). */
    TOO_MANY_CONNECTIONS(503, 0, "the gateway holds its maximum number of connections"),
    /** This client address holds its maximum number of sessions. */
    CLIENT_SESSION_LIMIT(429, 0, "too many sessions from this address"),
    /** This signed-in user holds their maximum number of sessions (sessions.perUser.maxSessions). */
    USER_SESSION_LIMIT(429, 0, "too many sessions for this user"),
    /** This client address opens new sessions faster than allowed. */
    CLIENT_RATE_LIMIT(429, 0, "new sessions from this address too fast: slow down"),
    /** This client address has its maximum number of sessions starting (launched or waiting for a launch) at once. */
    CLIENT_START_LIMIT(429, 0, "too many sessions from this address are starting: wait for them"),
    /** The route already holds its maximum number of sessions. */
    CAPACITY(503, 0, "no room for a new session right now"),
    /** The gateway as a whole holds its maximum number of sessions. */
    GATEWAY_FULL(503, 0, "no room for a new session right now"),
    /** As many launches run as allowed and the queue for more is full. */
    LAUNCH_QUEUE_FULL(503, 1013, "too many sessions are starting right now"),
    /** The gateway is shutting down (SIGTERM): it takes no new connection, another gateway will. */
    DRAINING(503, 0, "the gateway is shutting down: connect again"),
    /** An operator paused admissions (admin API): sessions that exist go on, no new one starts. */
    ADMISSIONS_PAUSED(503, 0, "new sessions are paused right now"),
    /** The launcher's engine does not answer. */
    ENGINE_UNAVAILABLE(503, 1013, "sessions cannot be started right now"),
    /** The engine refused or failed to create or start the backend. */
    START_FAILED(502, 1011, "the session's backend could not be started"),
    /** The backend was not running within the route's start timeout. */
    START_TIMEOUT(502, 1011, "the session's backend took too long to start"),
    /** The backend ran but did not answer its readiness check within the route's ready timeout. */
    READY_TIMEOUT(502, 1011, "the session's backend took too long to get ready"),
    /** The backend exited before it became ready. */
    EXITED_EARLY(502, 1011, "the session's backend stopped while starting"),
    /** The backend was ready but refused the gateway's websocket connection. */
    UNREACHABLE(502, 1011, "the session's backend did not accept the connection"),

    // Session ends: a client attached at the time gets the close code and reason.
    /** The client closed with 1000 or an application code: it is done with the session. */
    CLIENT_ENDED(0, 0, "the client ended the session"),
    /** The backend closed its websocket with a code of its own, passed on to the client. */
    BACKEND_ENDED(0, 0, "the session's backend ended the session"),
    /** The backend's container or process exited (crash, out of memory, killed). */
    BACKEND_EXITED(0, 1011, "the session's backend stopped"),
    /** The gateway's connection to the backend dropped without a close frame. */
    BACKEND_LOST(0, 1011, "the connection to the session's backend was lost"),
    /** A client closed before its new session was ready; no one else holds its token. */
    ABANDONED(0, 0, "the client left before its session was ready"),
    /** No client came back within the route's grace period. */
    GRACE_EXPIRED(0, 0, "no client came back in time"),
    /** No data frame either way for the route's idle timeout. */
    IDLE_TIMEOUT(0, 1001, "session idle for too long: reconnect to start a new one"),
    /** The session reached the route's maximum lifetime. */
    MAX_LIFETIME(0, 1001, "session reached its maximum lifetime: reconnect to start a new one"),
    /** The backend sent more than the route's detached buffer holds while no client was attached. */
    BUFFER_OVERFLOW(0, 4002, "too much data for the session while no client was attached"),
    /** An operator ended the session (admin API). */
    ENDED_BY_OPERATOR(0, 4003, "the session was ended by the gateway's operator"),
    /**
     * The session's version is no longer the route's (a reload or upgrade changed it) and the route's
     * drain deadline passed, or an operator drained the version: the client reconnects to the new one.
     */
    VERSION_RETIRED(0, 1001, "this session's version was upgraded: reconnect to start on the new one"),
    /** The gateway ends sessions at shutdown (sessions.onShutdown: end). */
    SHUTDOWN(0, 1001, "gateway shutting down"),

    // Client connection ends that keep the session.
    /** A newer connection presented the same session and took it over. */
    REPLACED(0, 4001, "session taken over by a newer connection"),
    /**
     * A newer connection took the session over through another gateway: an attached client is told
     * as for {@link #REPLACED}; one still on its way is asked to connect again (503).
     */
    MOVED_AWAY(503, 4001, "session taken over by a newer connection through another gateway"),
    /** The gateway restarts and keeps the session: reconnect to get it back. */
    RESTARTING(0, 1012, "gateway restarting: reconnect to resume the session"),
    /** A client that answers no keepalive ping is taken for dead; its session waits for it. */
    KEEPALIVE_TIMEOUT(0, 1001, "no answer to keepalive pings"),
    /** A resume-protocol client broke the protocol; its session waits for a well-behaved reconnect. */
    RESUME_PROTOCOL(0, 1002, "resume protocol violation"),
    /** A frame that breaks RFC 6455 (reserved bits, unknown opcode, bad fragmentation or close). */
    PROTOCOL_ERROR(0, 1002, "websocket protocol error"),
    /** A text message that is not well-formed UTF-8. */
    INVALID_UTF8(0, 1007, "text message is not valid UTF-8"),
    /** A frame or message over the edge's size limits. */
    MESSAGE_TOO_BIG(0, 1009, "message too big"),
    /** The backend sent what RFC 6455 forbids; nothing of it reached the client. */
    BACKEND_PROTOCOL(0, 1011, "the session's backend broke the websocket protocol");

    /** The failure a websocket close code stands for, when a client or backend broke the protocol. */
    public static Failure ofProtocolCloseCode(int code) {
        return switch (code) {
            case 1007 -> INVALID_UTF8;
            case 1009 -> MESSAGE_TOO_BIG;
            default -> PROTOCOL_ERROR;
        };
    }

    /** Seconds a client is asked to wait before retrying a 503. */
    public static final int RETRY_AFTER_SECONDS = 5;

    private final int httpStatus;
    private final int closeCode;
    private final String publicReason;

    Failure(int httpStatus, int closeCode, String publicReason) {
        this.httpStatus = httpStatus;
        this.closeCode = closeCode;
        this.publicReason = publicReason;
    }

    /** The status of a refused handshake: 503 (retry later), 502 (backend failed) or 426. */
    public int httpStatus() {
        return httpStatus == 0 ? 502 : httpStatus;
    }

    /** Whether it can refuse a websocket upgrade, answered with {@link #httpStatus()} before any handshake. */
    public boolean refusesUpgrade() {
        return httpStatus != 0;
    }

    /** Whether a client should retry later: answered 503 or 429 with {@code Retry-After}. */
    public boolean temporary() {
        return httpStatus == 503 || httpStatus == 429;
    }

    /**
     * The challenge a 401 carries in {@code WWW-Authenticate}, which RFC 9110 requires of every 401;
     * null for any other status. Both tokens are bearer tokens (RFC 6750): the session's, whoever
     * holds it has the session, and a signed-in user's JWT. No Basic: a browser would ask for a
     * password no one has.
     */
    public String challenge() {
        return switch (this) {
            case INVALID_TOKEN -> "Bearer realm=\"berth\", error=\"invalid_token\"";
            case UNAUTHENTICATED -> "Bearer realm=\"berth\"";
            default -> null;
        };
    }

    /** The websocket close code a client attached at the time gets; 0 when the peer's own code is passed on or no client is told. */
    public int closeCode() {
        return closeCode;
    }

    /**
     * What a client may be told. Exception messages stay in the log: they can name containers,
     * addresses and settings that are not the client's business.
     */
    public String publicReason() {
        return publicReason;
    }

    /**
     * Whether it speaks against the version the session ran (a canary's brake counts it): the
     * backend could not be started or reached, or crashed, vanished or broke the protocol.
     */
    public boolean blamesVersion() {
        return switch (this) {
            case START_FAILED,
                    START_TIMEOUT,
                    READY_TIMEOUT,
                    EXITED_EARLY,
                    UNREACHABLE,
                    BACKEND_EXITED,
                    BACKEND_LOST,
                    BACKEND_PROTOCOL -> true;
            default -> false;
        };
    }

    /**
     * Whether a launch can end with it: the launchers' own failures (the engine, the two start
     * phases, the dial) and the launch gate's in front of them (its queue full, or the launch
     * withdrawn while it waited there). The outcomes of {@code berth_launches_total} besides success.
     */
    public boolean endsLaunch() {
        return switch (this) {
            case ENGINE_UNAVAILABLE,
                    START_FAILED,
                    START_TIMEOUT,
                    READY_TIMEOUT,
                    EXITED_EARLY,
                    UNREACHABLE,
                    LAUNCH_QUEUE_FULL,
                    ABANDONED -> true;
            default -> false;
        };
    }

    /**
     * Whether a session, once made, can end with it: every failure but the admission refusals that
     * come before any session exists. A launch's failures end the session that waited for it; a
     * session taken over through another gateway ends here. The reasons of {@code
     * berth_sessions_ended_total}.
     */
    public boolean endsSession() {
        return !refusesUpgrade() || endsLaunch() || this == MOVED_AWAY;
    }

    /** The value used as a metric tag and in log lines, e.g. "ready_timeout". */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
