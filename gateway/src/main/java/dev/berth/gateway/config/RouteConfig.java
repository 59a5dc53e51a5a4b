package dev.berth.gateway.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One websocket route: the path clients connect to and what runs behind each session on it.
 *
 * @param name short name used in container names, labels, logs and metric tags
 * @param version the handler version sessions on this route are pinned to
 * @param image the container image for the docker launcher (null when unset)
 * @param containerPort the port the handler listens on inside its container
 * @param sandbox how the docker launcher locks the container down
 * @param command the handler command for the process launcher (empty when unset)
 * @param fixedBackends the running backends of the fixed launcher, taken in turn (empty when unset)
 * @param env extra environment for the handler, e.g. BERTH_FEED_PER_SECOND=0 for a pure echo
 * @param maxSessions sessions this route may hold at once; past it, new sessions get 503
 * @param pool ready backends kept waiting for new sessions ({@link Pool#NONE}: none); the pool runs the
 *     route's version, never its canary's
 * @param canary a second version that takes a share of new sessions, or null
 * @param drainDeadline how long sessions of a version the route no longer runs keep their backends
 *     after a reload, before they are closed with 1001 so their clients reconnect to the new one;
 *     null: until they end by themselves
 * @param sessionFor with {@code auth}: whether each browser of a user gets a session of its own on this
 *     route, or all of a user's browsers share one (the newest connection takes it over)
 * @param configKey the route's key in the file, e.g. routes[0], for messages that name a setting
 */
public record RouteConfig(
        String name,
        String path,
        String version,
        String image,
        int containerPort,
        Sandbox sandbox,
        List<String> command,
        List<Endpoint> fixedBackends,
        Map<String, String> env,
        int maxSessions,
        Pool pool,
        Canary canary,
        Duration drainDeadline,
        Limits limits,
        Timeouts timeouts,
        Buffer buffer,
        SessionFor sessionFor,
        String configKey) {

    /** Who a session (and its backend) is for, with {@code auth}. */
    public enum SessionFor {
        /** Each browser (each cookie): a user with two browsers has two sessions. */
        BROWSER,
        /** The signed-in user: a user's second browser joins their session, taking it over (4001 to the first). */
        USER
    }

    /** A backend's host and port, as written in the file ({@code host:port}). */
    public record Endpoint(String host, int port) {
        @Override
        public String toString() {
            return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** Where a session's container may send traffic besides its gateway. */
    public enum Egress {
        /** Nowhere: an internal network, no route off the machine. */
        NONE,
        /** Anywhere but other session containers, through the engine's NAT. */
        OPEN
    }

    /**
     * How a container is locked down beyond what is never optional (all capabilities dropped,
     * no-new-privileges, limits, no mounts, inter-container traffic off).
     *
     * @param user the uid[:gid] the handler runs as
     * @param readOnlyRootFilesystem whether the image's filesystem is read-only; /tmp is then a tmpfs
     * @param tmpfsBytes the size of that tmpfs
     */
    public record Sandbox(Egress egress, String user, boolean readOnlyRootFilesystem, long tmpfsBytes) {}

    /**
     * A route's warm pool: how many idle ready backends it keeps, between a floor and a ceiling, the
     * target in between following recent arrivals ({@code pool: {size: N}} is a floor and ceiling of
     * N). With several gateways these are the deployment's: each keeps its share.
     *
     * @param min the floor, kept however quiet the route is
     * @param max the ceiling a burst of arrivals may grow the pool to
     * @param decay once arrivals stop, the time in which the target falls halfway back to the floor
     */
    public record Pool(int min, int max, Duration decay) {

        /** {@code pool.decay} when a route sets none. */
        public static final Duration DEFAULT_DECAY = Duration.ofMinutes(10);

        /** No pool. */
        public static final Pool NONE = new Pool(0, 0, DEFAULT_DECAY);

        /** Whether the route keeps a pool at all. */
        public boolean on() {
            return max > 0;
        }
    }

    /** Resource limits of one session's backend. */
    public record Limits(long memoryBytes, double cpus, long pids) {}

    /**
     * The two launch phases each have a deadline, so an error can say which one to raise; then the
     * session's lifetimes.
     *
     * @param start from launch request until the backend process or container runs
     * @param ready from running until its readiness endpoint answers 200
     * @param grace how long a session without a client keeps its backend for a reconnect
     * @param stop how long a backend gets to exit after being told to, before it is killed
     * @param idle a session with no data frame either way for this long ends (pings do not count)
     * @param maxLifetime a session ends this long after it started, whatever it does
     * @param keepalive how often an attached client is pinged; one that answers nothing for two
     *     intervals is taken for dead and its session waits for it through the grace period
     */
    public record Timeouts(
            Duration start,
            Duration ready,
            Duration grace,
            Duration stop,
            Duration idle,
            Duration maxLifetime,
            Duration keepalive) {

        /**
         * {@code timeouts.stop} when a route sets none, and the stop timeout of a backend whose route
         * the gateway does not know: long enough for a handler to close its sessions' files, short
         * enough that a gateway's shutdown is not held up by many.
         */
        public static final Duration DEFAULT_STOP = Duration.ofSeconds(3);
    }

    /**
     * What a session holds of the backend's frames for its client: while no client is attached
     * (past it the session ends), and unacknowledged ones of a resume-protocol client (past it the
     * backend is paused until acknowledgements free room).
     */
    public record Buffer(long maxBytes, int maxFrames) {}

    /**
     * A version under trial: it takes {@code weightPercent} of the route's new sessions (each
     * session stays on the version it started on) until its brake finds it clearly worse than the
     * route's version.
     *
     * @param image its container image (docker launcher)
     * @param command its handler command (process launcher); empty: the route's
     */
    public record Canary(String version, String image, List<String> command, int weightPercent, Brake brake) {}

    /**
     * When a canary stops getting new sessions: once it has started {@code minSessions}, if the share
     * of its sessions that failed (launch failed, backend crashed, lost or broke the protocol) exceeds
     * the route version's share by more than {@code failureMargin}, or its median time from
     * handshake to first frame exceeds the route version's by more than {@code firstFrameRatio} times.
     */
    public record Brake(int minSessions, double failureMargin, double firstFrameRatio) {}

    /** This route as its canary version runs it: the canary's version, image and command. */
    public RouteConfig asCanary() {
        return new RouteConfig(
                name,
                path,
                canary.version(),
                canary.image() == null ? image : canary.image(),
                containerPort,
                sandbox,
                canary.command().isEmpty() ? command : canary.command(),
                fixedBackends,
                env,
                maxSessions,
                Pool.NONE,
                null,
                drainDeadline,
                limits,
                timeouts,
                buffer,
                sessionFor,
                configKey);
    }

    /**
     * This route for a session of {@code otherVersion}, which it no longer runs (found on the engine
     * after a reload or an upgrade): its backend is running, only its version differs.
     */
    public RouteConfig asRetired(String otherVersion) {
        return new RouteConfig(
                name,
                path,
                otherVersion,
                image,
                containerPort,
                sandbox,
                command,
                fixedBackends,
                env,
                maxSessions,
                Pool.NONE,
                null,
                drainDeadline,
                limits,
                timeouts,
                buffer,
                sessionFor,
                configKey);
    }

    /** Whether new sessions may start on {@code candidate}: the route's version or its canary's. */
    public boolean runs(String candidate) {
        return version.equals(candidate) || canary != null && canary.version().equals(candidate);
    }

    /** The full key of one of this route's settings, as an error message should name it. */
    public String key(String setting) {
        return configKey + "." + setting;
    }
}
