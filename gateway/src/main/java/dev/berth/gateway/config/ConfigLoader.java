package dev.berth.gateway.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code berth.yaml} into a validated {@link BerthConfig}: the file and its top-level sections
 * here, the routes in {@link RoutesLoader}. Every rule lives in this package so a bad file fails at
 * start, with the file, the key, the problem and the fix in one message.
 */
public final class ConfigLoader {

    private static final Pattern ORIGIN = Pattern.compile("https?://[A-Za-z0-9.-]+(:\\d{1,5})?");
    static final int MIB = 1 << 20;

    private ConfigLoader() {}

    public static BerthConfig load(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        String name = file.toString();
        String text;
        try {
            text = Files.readString(absolute);
        } catch (NoSuchFileException e) {
            throw new ConfigException(name
                    + ": file not found. Fix: pass an existing file with --config, e.g. --config config/berth.yaml");
        } catch (IOException e) {
            throw new ConfigException(
                    name + ": cannot be read (" + e.getMessage() + "). Fix: check the path and its permissions");
        }
        return parse(absolute, name, text);
    }

    /** The config in {@code text}, read from {@code absolute} (named {@code name} in errors). */
    static BerthConfig parse(Path absolute, String name, String text) {
        JsonNode tree;
        try {
            tree = new ObjectMapper(new YAMLFactory()).readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(
                    name + ": not valid YAML at line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage()
                            + ". Fix: correct the YAML syntax there");
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new ConfigException(name + ": the file is empty. Fix: start from config/berth.yaml");
        }
        DuplicateKeys.reject(name, text);
        ConfigNode root = new ConfigNode(name, "", tree)
                .onlyKeys(Set.of(
                        "listen", "launcher", "docker", "kubernetes", "sessions", "admin", "auth", "log", "routes"));
        // The sections in the file's own order, so the first mistake reported is the first one there.
        ListenConfig listen = listen(root.child("listen"), absolute.getParent());
        LauncherKind launcher = root.child("launcher").choice(LauncherKind.class, LauncherKind.AUTO);
        DockerConfig docker = docker(root.child("docker"), launcher);
        KubernetesConfig kubernetes = kubernetes(root.child("kubernetes"), launcher);
        SessionsConfig sessions = sessions(root.child("sessions"), absolute.getParent());
        AdminConfig admin = admin(root.child("admin"), absolute.getParent());
        AuthConfig auth = AuthLoader.auth(root.child("auth"), absolute.getParent());
        LogConfig log = log(root.child("log"), absolute.getParent());
        List<RouteConfig> routes = RoutesLoader.routes(root.child("routes"), launcher);
        if (launcher == LauncherKind.SWARM && docker.swarm().dial() == DockerConfig.Dial.PUBLISHED) {
            requirePublishable(root, routes);
        }
        return new BerthConfig(
                absolute,
                text,
                absolute.getParent(),
                listen,
                launcher,
                docker,
                kubernetes,
                sessions,
                admin,
                auth,
                log,
                routes);
    }

    /** A task on an internal network publishes no port, so the gateway could not dial it. */
    private static void requirePublishable(ConfigNode root, List<RouteConfig> routes) {
        for (RouteConfig route : routes) {
            if (route.sandbox().egress() == RouteConfig.Egress.NONE) {
                throw root.errorAt(
                        route.key("docker.egress"),
                        "is none while docker.swarm.dial is published: a task on an"
                                + " internal network publishes no port",
                        "set " + route.key("docker.egress") + ": open, or docker.swarm.dial: task");
            }
        }
    }

    private static ListenConfig listen(ConfigNode node, Path folder) {
        node.onlyKeys(Set.of(
                "host",
                "port",
                "maxFrameSize",
                "maxMessageSize",
                "maxHeaderSize",
                "handshakeTimeout",
                "idleTimeout",
                "maxConnections",
                "maxConnectionsPerClient",
                "eventLoops",
                "allowedOrigins",
                "tls",
                "trustedProxies",
                "proxyProtocol"));
        int maxFrame = (int) node.child("maxFrameSize").bytes(16L * MIB, 1024, 64L * MIB);
        int maxMessage = (int) node.child("maxMessageSize").bytes(64L * MIB, 1024, 1L << 30);
        if (maxMessage < maxFrame) {
            throw node.child("maxMessageSize")
                    .error(
                            "is smaller than listen.maxFrameSize (" + maxFrame + " bytes)",
                            "make it at least listen.maxFrameSize: a message holds one or more frames");
        }
        List<String> origins = node.child("allowedOrigins").list(origin -> {
            String value = origin.string(null);
            if (!value.equals("*") && !ORIGIN.matcher(value).matches()) {
                throw origin.error(
                        "'" + value + "' is not an origin",
                        "write scheme://host[:port], e.g. https://app.example.com, or *");
            }
            return value;
        });
        return new ListenConfig(
                node.child("host").string("127.0.0.1"),
                node.child("port").integer(8080, 0, 65535),
                maxFrame,
                maxMessage,
                (int) node.child("maxHeaderSize").bytes(8L << 10, 1024, 1L * MIB),
                node.child("handshakeTimeout")
                        .duration(Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(1)),
                node.child("idleTimeout").duration(Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofHours(1)),
                node.child("maxConnections").integer(10_000, 1, 1_000_000),
                node.child("maxConnectionsPerClient").integer(1_000, 1, 1_000_000),
                eventLoops(node.child("eventLoops")),
                origins,
                tls(node.child("tls"), folder),
                node.child("trustedProxies").list(ConfigLoader::cidr),
                node.child("proxyProtocol").bool(false));
    }

    private static Cidr cidr(ConfigNode node) {
        String value = node.string(null);
        try {
            return Cidr.parse(value);
        } catch (IllegalArgumentException wrong) {
            throw node.error(
                    "'" + value + "' is not an address block: " + wrong.getMessage(),
                    "write address/prefix, e.g. 10.0.0.0/8 or 127.0.0.1/32, for the proxies in front of the gateway");
        }
    }

    /** {@code auto} (the default): one data loop per core; or a number. */
    private static int eventLoops(ConfigNode node) {
        if (!node.present() || "auto".equals(node.string(null))) {
            return Math.min(256, Runtime.getRuntime().availableProcessors());
        }
        return node.integer(1, 1, 256);
    }

    private static ListenConfig.Tls tls(ConfigNode node, Path folder) {
        if (!node.present()) {
            return null;
        }
        node.onlyKeys(Set.of("cert", "key"));
        return new ListenConfig.Tls(pemFile(node.child("cert"), folder), pemFile(node.child("key"), folder));
    }

    /** A PEM file that exists, relative to the config file's folder unless absolute. */
    private static Path pemFile(ConfigNode node, Path folder) {
        String name = node.requiredString(node.path() + ": /etc/berth/tls.pem");
        Path file = folder.resolve(name).normalize();
        if (!Files.isReadable(file)) {
            throw node.error("'" + file + "' cannot be read", "point it at a PEM file the gateway can read");
        }
        return file;
    }

    private static DockerConfig docker(ConfigNode node, LauncherKind launcher) {
        node.onlyKeys(Set.of("host", "network", "apiTimeout", "stallAfter", "stopsPerNetwork", "swarm"));
        String host = node.child("host").string("unix:///var/run/docker.sock");
        if (!host.startsWith("unix://") && !host.startsWith("tcp://")) {
            throw node.child("host")
                    .error(
                            "'" + host + "' is not an engine address",
                            "use unix:///var/run/docker.sock or tcp://host:port");
        }
        return new DockerConfig(
                host,
                node.child("network").string("berth-sessions"),
                node.child("apiTimeout")
                        .duration(Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofMinutes(10)),
                node.child("stallAfter")
                        .duration(Duration.ofSeconds(15), Duration.ofSeconds(1), Duration.ofMinutes(10)),
                node.child("stopsPerNetwork").integer(4, 1, 64),
                swarm(node.child("swarm"), launcher));
    }

    private static DockerConfig.Swarm swarm(ConfigNode node, LauncherKind launcher) {
        node.onlyKeys(Set.of("network", "dial"));
        if (node.present() && launcher != LauncherKind.SWARM) {
            throw node.error(
                    "is set while launcher is '" + launcher.name().toLowerCase() + "'",
                    "set launcher: swarm, or remove " + node.path());
        }
        return new DockerConfig.Swarm(
                node.child("network").string("berth-swarm"),
                node.child("dial").choice(DockerConfig.Dial.class, DockerConfig.Dial.TASK));
    }

    /** A DNS-1123 label, as Kubernetes names namespaces. */
    private static final java.util.regex.Pattern NAMESPACE =
            java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    private static KubernetesConfig kubernetes(ConfigNode node, LauncherKind launcher) {
        node.onlyKeys(Set.of("namespace", "master"));
        if (node.present() && launcher != LauncherKind.KUBERNETES) {
            throw node.error(
                    "is set while launcher is '" + launcher.name().toLowerCase() + "'",
                    "set launcher: kubernetes, or remove " + node.path());
        }
        String namespace = node.child("namespace").string(KubernetesConfig.DEFAULT.namespace());
        if (!NAMESPACE.matcher(namespace).matches()) {
            throw node.child("namespace")
                    .error(
                            "'" + namespace + "' is not a namespace name",
                            "use 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit, e.g. berth");
        }
        String master = node.child("master").string(null);
        if (master != null && !master.startsWith("https://") && !master.startsWith("http://")) {
            throw node.child("master")
                    .error(
                            "'" + master + "' is not an API server URL",
                            "use https://host:port, or remove it to use the in-cluster account or ~/.kube/config");
        }
        return new KubernetesConfig(namespace, master);
    }

    private static SessionsConfig sessions(ConfigNode node, Path folder) {
        node.onlyKeys(Set.of(
                "onShutdown",
                "reapInterval",
                "tokenSecretFile",
                "maxSessions",
                "perClient",
                "perUser",
                "launches",
                "drainDeadline",
                "gatewayId"));
        String gatewayId = node.child("gatewayId").string("default");
        if (!RoutesLoader.ROUTE_NAME.matcher(gatewayId).matches()) {
            throw node.child("gatewayId")
                    .error(
                            "'" + gatewayId + "' is not a valid gateway id",
                            "use 1-32 lower-case letters, digits or '-', starting and ending with a letter or digit, e.g. gw-1;"
                                    + " every gateway on one engine needs its own");
        }
        ConfigNode perClient = node.child("perClient").onlyKeys(Set.of("maxSessions", "newPerMinute", "maxStarting"));
        ConfigNode perUser = node.child("perUser").onlyKeys(Set.of("maxSessions"));
        ConfigNode launches = node.child("launches").onlyKeys(Set.of("maxConcurrent", "queue"));
        return new SessionsConfig(
                node.child("onShutdown").choice(SessionsConfig.OnShutdown.class, SessionsConfig.OnShutdown.KEEP),
                node.child("reapInterval")
                        .duration(Duration.ofSeconds(15), Duration.ofMillis(100), Duration.ofHours(1)),
                folder.resolve(node.child("tokenSecretFile").string("berth-token.key"))
                        .normalize(),
                node.child("maxSessions").integer(1000, 1, 1_000_000),
                perClient.child("maxSessions").integer(100, 1, 1_000_000),
                perClient.child("newPerMinute").integer(600, 1, 1_000_000),
                perClient.child("maxStarting").integer(8, 1, 100_000),
                perUser.child("maxSessions").integer(10, 1, 1_000_000),
                launches.child("maxConcurrent").integer(8, 1, 1000),
                launches.child("queue").integer(64, 0, 100_000),
                node.child("drainDeadline").duration(Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)),
                gatewayId);
    }

    private static LogConfig log(ConfigNode node, Path folder) {
        node.onlyKeys(Set.of("level", "format", "sessionLogs"));
        String level = node.child("level").string("info");
        java.util.logging.Level parsed = switch (level) {
            case "error" -> java.util.logging.Level.SEVERE;
            case "warning" -> java.util.logging.Level.WARNING;
            case "info" -> java.util.logging.Level.INFO;
            case "debug" -> java.util.logging.Level.FINE;
            default ->
                throw node.child("level")
                        .error("'" + level + "' is not a log level", "use error, warning, info or debug");
        };
        ConfigNode sessionLogs = node.child("sessionLogs").onlyKeys(Set.of("dir", "maxSize"));
        String dir = sessionLogs.child("dir").string(null);
        if (sessionLogs.present() && dir == null) {
            throw sessionLogs
                    .child("dir")
                    .error("is missing", "add log.sessionLogs.dir: session-logs, or remove log.sessionLogs");
        }
        return new LogConfig(
                parsed,
                node.child("format").choice(LogConfig.Format.class, LogConfig.Format.PLAIN),
                dir == null ? null : folder.resolve(dir).normalize(),
                sessionLogs.child("maxSize").bytes(1L << 20, 1024, 1L << 30));
    }

    private static AdminConfig admin(ConfigNode node, Path folder) {
        node.onlyKeys(Set.of("host", "port", "tokenFile", "readOnlyTokenFile", "metrics", "tls"));
        Path tokenFile = folder.resolve(node.child("tokenFile").string("berth-admin.key"))
                .normalize();
        // Beside the full token by default: wherever an operator made room for one key file, the other fits.
        String fullName = tokenFile.getFileName().toString();
        String readOnlyName =
                (fullName.endsWith(".key") ? fullName.substring(0, fullName.length() - 4) : fullName) + "-read.key";
        String readOnly = node.child("readOnlyTokenFile").string(null);
        return new AdminConfig(
                node.child("host").string("127.0.0.1"),
                node.child("port").integer(8081, 0, 65535),
                tokenFile,
                readOnly == null
                        ? tokenFile.resolveSibling(readOnlyName)
                        : folder.resolve(readOnly).normalize(),
                node.child("metrics").bool(false),
                tls(node.child("tls"), folder));
    }
}
