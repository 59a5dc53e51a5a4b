package dev.berth.gateway.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the {@code routes} list of {@code berth.yaml}: each route's launch, sandbox, limits and rollout. */
final class RoutesLoader {

    /** A route's name, and a gateway's id (both end up in container names). */
    /** Route names and gateway ids: each is a label value and part of a name on every engine. */
    static final Pattern ROUTE_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?");

    /** What the Kubernetes API accepts as a label value, as each pod's {@code berth.version} is. */
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?");

    private static final Pattern ROUTE_PATH = Pattern.compile("/[A-Za-z0-9._~/-]*");
    private static final Set<String> RESERVED_PATHS = Set.of("/", "/health", "/metrics", "/berth.js");
    private static final Pattern USER = Pattern.compile("\\d+(:\\d+)?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Set<String> RESERVED_ENV = Set.of(
            "BERTH_SESSION",
            "BERTH_POOL",
            "BERTH_VERSION",
            "BERTH_PORT",
            "BERTH_HOST",
            "BERTH_IDLE_GRACE_MS",
            "BERTH_USER", // the signed-in user: a route could otherwise name one for every session
            "BERTH_USER_EMAIL");

    private RoutesLoader() {}

    static List<RouteConfig> routes(ConfigNode node, LauncherKind launcher) {
        List<RouteConfig> routes = node.list(route -> route(route, launcher));
        if (routes.isEmpty()) {
            throw node.error(
                    "no routes are configured", "add at least one route with a name, a path and what to launch");
        }
        Set<String> names = new HashSet<>();
        Set<String> paths = new HashSet<>();
        for (RouteConfig route : routes) {
            if (!names.add(route.name())) {
                throw node.errorAt(
                        route.key("name"),
                        "'" + route.name() + "' is used by two routes",
                        "give every route its own name");
            }
            if (!paths.add(route.path())) {
                throw node.errorAt(
                        route.key("path"),
                        "'" + route.path() + "' is used by two routes",
                        "give every route its own path");
            }
        }
        return routes;
    }

    private static RouteConfig route(ConfigNode node, LauncherKind launcher) {
        node.onlyKeys(Set.of(
                "name",
                "path",
                "version",
                "docker",
                "process",
                "fixed",
                "env",
                "maxSessions",
                "pool",
                "canary",
                "drain",
                "limits",
                "timeouts",
                "buffer",
                "sessionFor"));
        String name = node.child("name").requiredString(node.path() + ".name: listings");
        if (!ROUTE_NAME.matcher(name).matches()) {
            throw node.child("name")
                    .error(
                            "'" + name + "' is not a valid route name",
                            "use 1-32 lower-case letters, digits or '-', starting and ending with a letter or digit");
        }
        String path = node.child("path").requiredString(node.path() + ".path: /ws");
        if (!ROUTE_PATH.matcher(path).matches() || RESERVED_PATHS.contains(path)) {
            throw node.child("path")
                    .error(
                            "'" + path + "' cannot be a websocket path",
                            "use an absolute path such as /ws, other than " + RESERVED_PATHS);
        }
        ConfigNode docker = node.child("docker")
                .onlyKeys(Set.of("image", "port", "egress", "user", "readOnlyRootFilesystem", "tmpfsSize"));
        ConfigNode process = node.child("process").onlyKeys(Set.of("command"));
        String image = docker.child("image").string(null);
        List<String> command = process.child("command").list(part -> part.string(null));
        ConfigNode fixed = node.child("fixed").onlyKeys(Set.of("backends"));
        List<RouteConfig.Endpoint> fixedBackends = fixed.child("backends").list(RoutesLoader::endpoint);
        RouteConfig.Pool pool = pool(node.child("pool"));
        if (launcher == LauncherKind.FIXED) {
            if (fixedBackends.isEmpty()) {
                throw fixed.child("backends")
                        .error(
                                "is missing while launcher is 'fixed'",
                                "add " + fixed.path()
                                        + ".backends: [\"127.0.0.1:9001\"], the running backends sessions are piped to");
            }
            if (pool.on()) {
                throw node.child("pool")
                        .child(node.child("pool").child("size").present() ? "size" : "max")
                        .error(
                                "is " + pool.max() + " while launcher is 'fixed', which launches nothing",
                                "remove " + node.path() + ".pool, or use launcher: docker");
            }
        } else if (launcher != LauncherKind.PROCESS && image == null) {
            throw docker.child("image")
                    .error(
                            "is missing while launcher is '" + launcher.name().toLowerCase() + "'",
                            "add " + docker.path()
                                    + ".image: berth/handler:0.1.0 (built by handler-image/build-image.sh), or set launcher: process");
        }
        if ((launcher == LauncherKind.PROCESS || launcher == LauncherKind.AUTO) && command.isEmpty()) {
            throw process.child("command")
                    .error(
                            "is missing while launcher is '" + launcher.name().toLowerCase() + "'",
                            "add " + process.path()
                                    + ".command: [java, -jar, ../handler-image/target/berth-handler.jar], or set launcher: docker");
        }
        String version = labelSafe(node.child("version"), node.child("version").string("dev"), launcher);
        return new RouteConfig(
                name,
                path,
                version,
                image,
                docker.child("port").integer(8080, 1, 65535),
                sandbox(docker),
                command,
                fixedBackends,
                env(node.child("env")),
                node.child("maxSessions").integer(100, 1, 100_000),
                pool,
                canary(node.child("canary"), launcher, version),
                drainDeadline(node.child("drain")),
                limits(node.child("limits")),
                timeouts(node.child("timeouts")),
                buffer(node.child("buffer")),
                node.child("sessionFor").choice(RouteConfig.SessionFor.class, RouteConfig.SessionFor.BROWSER),
                node.path());
    }

    /**
     * {@code pool: {min: N, max: M, decay: D}} (max defaults to min: a fixed pool), or the older
     * {@code pool: {size: N}}, a floor and ceiling of N.
     */
    private static RouteConfig.Pool pool(ConfigNode node) {
        node.onlyKeys(Set.of("size", "min", "max", "decay"));
        Duration decay =
                node.child("decay").duration(RouteConfig.Pool.DEFAULT_DECAY, Duration.ofSeconds(1), Duration.ofDays(1));
        if (node.child("size").present()) {
            if (node.child("min").present() || node.child("max").present()) {
                throw node.child("size")
                        .error(
                                "is set together with " + node.path() + ".min or .max",
                                "write either " + node.path() + ".size: N (a fixed pool) or " + node.path()
                                        + ".min and .max (a pool that follows demand between them), not both");
            }
            int size = node.child("size").integer(0, 0, 1000);
            return new RouteConfig.Pool(size, size, decay);
        }
        int min = node.child("min").integer(0, 0, 1000);
        int max = node.child("max").integer(min, 0, 1000);
        if (max < min) {
            throw node.child("max")
                    .error(
                            "is " + max + ", below " + node.path() + ".min (" + min + ")",
                            "raise " + node.path() + ".max to at least " + min + ", or lower " + node.path() + ".min");
        }
        return new RouteConfig.Pool(min, max, decay);
    }

    /** A version, which on kubernetes each pod carries as a label: the API server refuses other characters. */
    private static String labelSafe(ConfigNode node, String version, LauncherKind launcher) {
        if (launcher == LauncherKind.KUBERNETES && !LABEL_VALUE.matcher(version).matches()) {
            throw node.error(
                    "'" + version + "' cannot be a Kubernetes label value, which each pod carries as berth.version",
                    "use up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, e.g. 0.2.0");
        }
        return version;
    }

    private static RouteConfig.Canary canary(ConfigNode node, LauncherKind launcher, String routeVersion) {
        if (!node.present()) {
            return null;
        }
        node.onlyKeys(Set.of("version", "image", "command", "weight", "brake"));
        String version = labelSafe(
                node.child("version"), node.child("version").requiredString(node.path() + ".version: 0.2.0"), launcher);
        if (version.equals(routeVersion)) {
            throw node.child("version")
                    .error(
                            "is the route's own version (" + version + ")",
                            "give the canary the version under trial, or remove the canary block");
        }
        String image = node.child("image").string(null);
        if ((launcher == LauncherKind.DOCKER || launcher == LauncherKind.SWARM || launcher == LauncherKind.AUTO)
                && image == null) {
            throw node.child("image")
                    .error(
                            "is missing while launcher is '" + launcher.name().toLowerCase() + "'",
                            "add " + node.path() + ".image: berth/handler:" + version + ", the canary's image");
        }
        if (launcher == LauncherKind.FIXED) {
            throw node.error("is set while launcher is 'fixed', which launches no versions", "remove " + node.path());
        }
        ConfigNode brake = node.child("brake").onlyKeys(Set.of("minSessions", "failureMargin", "firstFrameRatio"));
        return new RouteConfig.Canary(
                version,
                image,
                node.child("command").list(part -> part.string(null)),
                node.child("weight").integer(10, 0, 100),
                new RouteConfig.Brake(
                        brake.child("minSessions").integer(20, 1, 1_000_000),
                        brake.child("failureMargin").decimal(0.05, 0, 1),
                        brake.child("firstFrameRatio").decimal(2.0, 1.0, 1000)));
    }

    /** {@code drain: wait} (the default) or a duration: see {@link RouteConfig#drainDeadline()}. */
    private static Duration drainDeadline(ConfigNode node) {
        if (!node.present() || "wait".equals(node.string(null))) {
            return null;
        }
        try {
            return node.duration(null, Duration.ZERO, Duration.ofDays(30));
        } catch (ConfigException notADuration) {
            throw node.error(
                    "is neither 'wait' nor a duration",
                    "write wait (old sessions end by themselves) or a deadline such as 10m");
        }
    }

    private static RouteConfig.Endpoint endpoint(ConfigNode node) {
        String text = node.requiredString("127.0.0.1:9001");
        int colon = text.lastIndexOf(':');
        int port = -1;
        try {
            port = colon > 0 ? Integer.parseInt(text.substring(colon + 1)) : -1;
        } catch (NumberFormatException notANumber) {
            // reported below
        }
        if (port < 1 || port > 65535) {
            throw node.error(
                    "'" + text + "' is not host:port", "write a host or IP address and a port, e.g. 127.0.0.1:9001");
        }
        String host = text.substring(0, colon);
        boolean bracketed = host.startsWith("[") && host.endsWith("]"); // an IPv6 literal
        return new RouteConfig.Endpoint(bracketed ? host.substring(1, host.length() - 1) : host, port);
    }

    private static RouteConfig.Sandbox sandbox(ConfigNode docker) {
        String user = docker.child("user").string("65534:65534");
        if (!USER.matcher(user).matches()) {
            throw docker.child("user")
                    .error("'" + user + "' is not a numeric user", "write uid or uid:gid, e.g. 65534:65534");
        }
        return new RouteConfig.Sandbox(
                docker.child("egress").choice(RouteConfig.Egress.class, RouteConfig.Egress.NONE),
                user,
                docker.child("readOnlyRootFilesystem").bool(true),
                docker.child("tmpfsSize").bytes(16L * ConfigLoader.MIB, ConfigLoader.MIB, 1L << 30));
    }

    private static Map<String, String> env(ConfigNode node) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : node.keys()) {
            ConfigNode value = node.child(name);
            if (!ENV_NAME.matcher(name).matches()) {
                throw value.error(
                        "'" + name + "' is not an environment variable name",
                        "use letters, digits and '_', e.g. BERTH_FEED_PER_SECOND");
            }
            if (RESERVED_ENV.contains(name)) {
                throw value.error(
                        "is set by the gateway for every session", "remove it; the gateway sets " + RESERVED_ENV);
            }
            env.put(name, value.string(""));
        }
        return Map.copyOf(env);
    }

    private static RouteConfig.Limits limits(ConfigNode node) {
        node.onlyKeys(Set.of("memory", "cpus", "pids"));
        return new RouteConfig.Limits(
                node.child("memory").bytes(128L * ConfigLoader.MIB, 16L * ConfigLoader.MIB, 64L << 30),
                node.child("cpus").decimal(0.5, 0.01, 64),
                node.child("pids").integer(128, 16, 100_000));
    }

    private static RouteConfig.Timeouts timeouts(ConfigNode node) {
        node.onlyKeys(Set.of("start", "ready", "grace", "stop", "idle", "maxLifetime", "keepalive"));
        Duration min = Duration.ofMillis(10);
        return new RouteConfig.Timeouts(
                node.child("start").duration(Duration.ofSeconds(10), min, Duration.ofMinutes(5)),
                node.child("ready").duration(Duration.ofSeconds(15), min, Duration.ofMinutes(5)),
                node.child("grace").duration(Duration.ofSeconds(30), min, Duration.ofHours(24)),
                node.child("stop").duration(RouteConfig.Timeouts.DEFAULT_STOP, Duration.ZERO, Duration.ofMinutes(1)),
                node.child("idle").duration(Duration.ofMinutes(30), Duration.ofSeconds(1), Duration.ofDays(7)),
                node.child("maxLifetime").duration(Duration.ofHours(12), Duration.ofSeconds(1), Duration.ofDays(30)),
                node.child("keepalive")
                        .duration(Duration.ofSeconds(25), Duration.ofMillis(100), Duration.ofMinutes(10)));
    }

    private static RouteConfig.Buffer buffer(ConfigNode node) {
        node.onlyKeys(Set.of("maxBytes", "maxFrames"));
        return new RouteConfig.Buffer(
                node.child("maxBytes").bytes(8L * ConfigLoader.MIB, 64L << 10, 1L << 30),
                node.child("maxFrames").integer(10_000, 16, 10_000_000));
    }
}
