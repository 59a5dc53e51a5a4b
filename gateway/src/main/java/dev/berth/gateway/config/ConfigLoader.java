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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code berth.yaml} into a validated {@link BerthConfig}. Every rule lives here so a bad
 * file fails at start, with the file, the key, the problem and the fix in one message.
 */
public final class ConfigLoader {

  private static final Pattern ROUTE_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
  private static final Pattern ROUTE_PATH = Pattern.compile("/[A-Za-z0-9._~/-]*");
  private static final Set<String> RESERVED_PATHS = Set.of("/", "/health", "/metrics", "/berth.js");
  private static final Pattern ORIGIN = Pattern.compile("https?://[A-Za-z0-9.-]+(:\\d{1,5})?");
  private static final int MIB = 1 << 20;
  private static final Pattern USER = Pattern.compile("\\d+(:\\d+)?");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> RESERVED_ENV = Set.of("BERTH_SESSION", "BERTH_POOL", "BERTH_VERSION", "BERTH_PORT", "BERTH_HOST",
      "BERTH_IDLE_GRACE_MS");

  private ConfigLoader() {}

  public static BerthConfig load(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    String name = file.toString();
    String text;
    try {
      text = Files.readString(absolute);
    } catch (NoSuchFileException e) {
      throw new ConfigException(name + ": file not found. Fix: pass an existing file with --config, e.g. --config config/berth.yaml");
    } catch (IOException e) {
      throw new ConfigException(name + ": cannot be read (" + e.getMessage() + "). Fix: check the path and its permissions");
    }
    return parse(absolute, name, text);
  }

  /** The config in {@code text}, read from {@code absolute} (named {@code name} in errors). */
  static BerthConfig parse(Path absolute, String name, String text) {
    JsonNode tree;
    try {
      tree = new ObjectMapper(new YAMLFactory()).readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException(name + ": not valid YAML at line " + e.getLocation().getLineNr()
          + ": " + e.getOriginalMessage() + ". Fix: correct the YAML syntax there");
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      throw new ConfigException(name + ": the file is empty. Fix: start from config/berth.yaml");
    }
    DuplicateKeys.reject(name, text);
    ConfigNode root = new ConfigNode(name, "", tree).onlyKeys(Set.of("listen", "launcher", "docker", "sessions", "admin", "routes"));
    LauncherKind launcher = root.child("launcher").choice(LauncherKind.class, LauncherKind.AUTO);
    DockerConfig docker = docker(root.child("docker"), launcher);
    List<RouteConfig> routes = routes(root.child("routes"), launcher);
    if (launcher == LauncherKind.SWARM && docker.swarm().dial() == DockerConfig.Dial.PUBLISHED) {
      requirePublishable(root, routes);
    }
    return new BerthConfig(
        absolute,
        text,
        absolute.getParent(),
        listen(root.child("listen"), absolute.getParent()),
        launcher,
        docker,
        sessions(root.child("sessions"), absolute.getParent()),
        admin(root.child("admin"), absolute.getParent()),
        routes);
  }

  /** A task on an internal network publishes no port, so the gateway could not dial it. */
  private static void requirePublishable(ConfigNode root, List<RouteConfig> routes) {
    for (RouteConfig route : routes) {
      if (route.sandbox().egress() == RouteConfig.Egress.NONE) {
        throw root.errorAt(route.key("docker.egress"), "is none while docker.swarm.dial is published: a task on an"
            + " internal network publishes no port", "set " + route.key("docker.egress") + ": open, or docker.swarm.dial: task");
      }
    }
  }

  private static ListenConfig listen(ConfigNode node, Path folder) {
    node.onlyKeys(Set.of("host", "port", "maxFrameSize", "maxMessageSize", "maxHeaderSize", "handshakeTimeout",
        "idleTimeout", "maxConnections", "maxConnectionsPerClient", "eventLoops", "allowedOrigins", "tls"));
    int maxFrame = (int) node.child("maxFrameSize").bytes(16L * MIB, 1024, 64L * MIB);
    int maxMessage = (int) node.child("maxMessageSize").bytes(64L * MIB, 1024, 1L << 30);
    if (maxMessage < maxFrame) {
      throw node.child("maxMessageSize").error("is smaller than listen.maxFrameSize (" + maxFrame + " bytes)",
          "make it at least listen.maxFrameSize: a message holds one or more frames");
    }
    List<String> origins = node.child("allowedOrigins").list(origin -> {
      String value = origin.string(null);
      if (!value.equals("*") && !ORIGIN.matcher(value).matches()) {
        throw origin.error("'" + value + "' is not an origin", "write scheme://host[:port], e.g. https://app.example.com, or *");
      }
      return value;
    });
    return new ListenConfig(
        node.child("host").string("127.0.0.1"),
        node.child("port").integer(8080, 0, 65535),
        maxFrame,
        maxMessage,
        (int) node.child("maxHeaderSize").bytes(8L << 10, 1024, 1L * MIB),
        node.child("handshakeTimeout").duration(Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(1)),
        node.child("idleTimeout").duration(Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofHours(1)),
        node.child("maxConnections").integer(10_000, 1, 1_000_000),
        node.child("maxConnectionsPerClient").integer(1_000, 1, 1_000_000),
        eventLoops(node.child("eventLoops")),
        origins,
        tls(node.child("tls"), folder));
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
      throw node.child("host").error("'" + host + "' is not an engine address", "use unix:///var/run/docker.sock or tcp://host:port");
    }
    return new DockerConfig(host, node.child("network").string("berth-sessions"),
        node.child("apiTimeout").duration(Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofMinutes(10)),
        node.child("stallAfter").duration(Duration.ofSeconds(15), Duration.ofSeconds(1), Duration.ofMinutes(10)),
        node.child("stopsPerNetwork").integer(4, 1, 64),
        swarm(node.child("swarm"), launcher));
  }

  private static DockerConfig.Swarm swarm(ConfigNode node, LauncherKind launcher) {
    node.onlyKeys(Set.of("network", "dial"));
    if (node.present() && launcher != LauncherKind.SWARM) {
      throw node.error("is set while launcher is '" + launcher.name().toLowerCase() + "'",
          "set launcher: swarm, or remove " + node.path());
    }
    return new DockerConfig.Swarm(node.child("network").string("berth-swarm"),
        node.child("dial").choice(DockerConfig.Dial.class, DockerConfig.Dial.TASK));
  }

  private static SessionsConfig sessions(ConfigNode node, Path folder) {
    node.onlyKeys(Set.of("onShutdown", "reapInterval", "tokenSecretFile", "maxSessions", "perClient", "launches",
        "drainDeadline", "gatewayId"));
    String gatewayId = node.child("gatewayId").string("default");
    if (!ROUTE_NAME.matcher(gatewayId).matches()) {
      throw node.child("gatewayId").error("'" + gatewayId + "' is not a valid gateway id",
          "use 1-32 lower-case letters, digits or '-', e.g. gw-1; every gateway on one engine needs its own");
    }
    ConfigNode perClient = node.child("perClient").onlyKeys(Set.of("maxSessions", "newPerMinute", "maxStarting"));
    ConfigNode launches = node.child("launches").onlyKeys(Set.of("maxConcurrent", "queue"));
    return new SessionsConfig(
        node.child("onShutdown").choice(SessionsConfig.OnShutdown.class, SessionsConfig.OnShutdown.KEEP),
        node.child("reapInterval").duration(Duration.ofSeconds(15), Duration.ofMillis(100), Duration.ofHours(1)),
        folder.resolve(node.child("tokenSecretFile").string("berth-token.key")).normalize(),
        node.child("maxSessions").integer(1000, 1, 1_000_000),
        perClient.child("maxSessions").integer(100, 1, 1_000_000),
        perClient.child("newPerMinute").integer(600, 1, 1_000_000),
        perClient.child("maxStarting").integer(8, 1, 100_000),
        launches.child("maxConcurrent").integer(8, 1, 1000),
        launches.child("queue").integer(64, 0, 100_000),
        node.child("drainDeadline").duration(Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)),
        gatewayId);
  }

  private static AdminConfig admin(ConfigNode node, Path folder) {
    node.onlyKeys(Set.of("host", "port", "tokenFile", "metrics"));
    return new AdminConfig(
        node.child("host").string("127.0.0.1"),
        node.child("port").integer(8081, 0, 65535),
        folder.resolve(node.child("tokenFile").string("berth-admin.key")).normalize(),
        node.child("metrics").bool(false));
  }

  private static List<RouteConfig> routes(ConfigNode node, LauncherKind launcher) {
    List<RouteConfig> routes = node.list(route -> route(route, launcher));
    if (routes.isEmpty()) {
      throw node.error("no routes are configured", "add at least one route with a name, a path and what to launch");
    }
    Set<String> names = new HashSet<>();
    Set<String> paths = new HashSet<>();
    for (RouteConfig route : routes) {
      if (!names.add(route.name())) {
        throw node.errorAt(route.key("name"),
            "'" + route.name() + "' is used by two routes", "give every route its own name");
      }
      if (!paths.add(route.path())) {
        throw node.errorAt(route.key("path"),
            "'" + route.path() + "' is used by two routes", "give every route its own path");
      }
    }
    return routes;
  }

  private static RouteConfig route(ConfigNode node, LauncherKind launcher) {
    node.onlyKeys(Set.of("name", "path", "version", "docker", "process", "fixed", "env", "maxSessions", "pool",
        "canary", "drain", "limits", "timeouts", "buffer"));
    String name = node.child("name").requiredString(node.path() + ".name: listings");
    if (!ROUTE_NAME.matcher(name).matches()) {
      throw node.child("name").error("'" + name + "' is not a valid route name", "use 1-32 lower-case letters, digits or '-', starting with a letter or digit");
    }
    String path = node.child("path").requiredString(node.path() + ".path: /ws");
    if (!ROUTE_PATH.matcher(path).matches() || RESERVED_PATHS.contains(path)) {
      throw node.child("path").error("'" + path + "' cannot be a websocket path", "use an absolute path such as /ws, other than " + RESERVED_PATHS);
    }
    ConfigNode docker = node.child("docker").onlyKeys(Set.of("image", "port", "egress", "user", "readOnlyRootFilesystem",
        "tmpfsSize"));
    ConfigNode process = node.child("process").onlyKeys(Set.of("command"));
    String image = docker.child("image").string(null);
    List<String> command = process.child("command").list(part -> part.string(null));
    ConfigNode fixed = node.child("fixed").onlyKeys(Set.of("backends"));
    List<RouteConfig.Endpoint> fixedBackends = fixed.child("backends").list(ConfigLoader::endpoint);
    int poolSize = node.child("pool").onlyKeys(Set.of("size")).child("size").integer(0, 0, 1000);
    if (launcher == LauncherKind.FIXED) {
      if (fixedBackends.isEmpty()) {
        throw fixed.child("backends").error("is missing while launcher is 'fixed'",
            "add " + fixed.path() + ".backends: [\"127.0.0.1:9001\"], the running backends sessions are piped to");
      }
      if (poolSize > 0) {
        throw node.child("pool").child("size").error("is " + poolSize + " while launcher is 'fixed', which launches nothing",
            "remove " + node.path() + ".pool, or use launcher: docker");
      }
    } else if (launcher != LauncherKind.PROCESS && image == null) {
      throw docker.child("image").error("is missing while launcher is '" + launcher.name().toLowerCase() + "'",
          "add " + docker.path() + ".image: berth/handler:0.1.0 (built by handler-image/build-image.sh), or set launcher: process");
    }
    if ((launcher == LauncherKind.PROCESS || launcher == LauncherKind.AUTO) && command.isEmpty()) {
      throw process.child("command").error("is missing while launcher is '" + launcher.name().toLowerCase() + "'",
          "add " + process.path() + ".command: [java, -jar, ../handler-image/target/berth-handler.jar], or set launcher: docker");
    }
    String version = node.child("version").string("dev");
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
        poolSize,
        canary(node.child("canary"), launcher, version),
        drainDeadline(node.child("drain")),
        limits(node.child("limits")),
        timeouts(node.child("timeouts")),
        buffer(node.child("buffer")),
        node.path());
  }

  private static RouteConfig.Canary canary(ConfigNode node, LauncherKind launcher, String routeVersion) {
    if (!node.present()) {
      return null;
    }
    node.onlyKeys(Set.of("version", "image", "command", "weight", "brake"));
    String version = node.child("version").requiredString(node.path() + ".version: 0.2.0");
    if (version.equals(routeVersion)) {
      throw node.child("version").error("is the route's own version (" + version + ")",
          "give the canary the version under trial, or remove the canary block");
    }
    String image = node.child("image").string(null);
    if ((launcher == LauncherKind.DOCKER || launcher == LauncherKind.SWARM || launcher == LauncherKind.AUTO)
        && image == null) {
      throw node.child("image").error("is missing while launcher is '" + launcher.name().toLowerCase() + "'",
          "add " + node.path() + ".image: berth/handler:" + version + ", the canary's image");
    }
    if (launcher == LauncherKind.FIXED) {
      throw node.error("is set while launcher is 'fixed', which launches no versions", "remove " + node.path());
    }
    ConfigNode brake = node.child("brake").onlyKeys(Set.of("minSessions", "failureMargin", "firstFrameRatio"));
    return new RouteConfig.Canary(version, image, node.child("command").list(part -> part.string(null)),
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
      throw node.error("is neither 'wait' nor a duration", "write wait (old sessions end by themselves) or a deadline such as 10m");
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
      throw node.error("'" + text + "' is not host:port", "write a host or IP address and a port, e.g. 127.0.0.1:9001");
    }
    String host = text.substring(0, colon);
    boolean bracketed = host.startsWith("[") && host.endsWith("]"); // an IPv6 literal
    return new RouteConfig.Endpoint(bracketed ? host.substring(1, host.length() - 1) : host, port);
  }

  private static RouteConfig.Sandbox sandbox(ConfigNode docker) {
    String user = docker.child("user").string("65534:65534");
    if (!USER.matcher(user).matches()) {
      throw docker.child("user").error("'" + user + "' is not a numeric user", "write uid or uid:gid, e.g. 65534:65534");
    }
    return new RouteConfig.Sandbox(
        docker.child("egress").choice(RouteConfig.Egress.class, RouteConfig.Egress.NONE),
        user,
        docker.child("readOnlyRootFilesystem").bool(true),
        docker.child("tmpfsSize").bytes(16L * MIB, MIB, 1L << 30));
  }

  private static Map<String, String> env(ConfigNode node) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String name : node.keys()) {
      ConfigNode value = node.child(name);
      if (!ENV_NAME.matcher(name).matches()) {
        throw value.error("'" + name + "' is not an environment variable name", "use letters, digits and '_', e.g. BERTH_FEED_PER_SECOND");
      }
      if (RESERVED_ENV.contains(name)) {
        throw value.error("is set by the gateway for every session", "remove it; the gateway sets " + RESERVED_ENV);
      }
      env.put(name, value.string(""));
    }
    return Map.copyOf(env);
  }

  private static RouteConfig.Limits limits(ConfigNode node) {
    node.onlyKeys(Set.of("memory", "cpus", "pids"));
    return new RouteConfig.Limits(
        node.child("memory").bytes(128L * MIB, 16L * MIB, 64L << 30),
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
        node.child("keepalive").duration(Duration.ofSeconds(25), Duration.ofMillis(100), Duration.ofMinutes(10)));
  }

  private static RouteConfig.Buffer buffer(ConfigNode node) {
    node.onlyKeys(Set.of("maxBytes", "maxFrames"));
    return new RouteConfig.Buffer(
        node.child("maxBytes").bytes(8L * MIB, 64L << 10, 1L << 30),
        node.child("maxFrames").integer(10_000, 16, 10_000_000));
  }
}
