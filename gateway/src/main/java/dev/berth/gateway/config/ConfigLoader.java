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
  private static final Set<String> RESERVED_PATHS = Set.of("/", "/health", "/metrics");
  private static final int MIB = 1 << 20;

  private ConfigLoader() {}

  public static BerthConfig load(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    String name = file.toString();
    JsonNode tree;
    try {
      tree = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(absolute));
    } catch (NoSuchFileException e) {
      throw new ConfigException(name + ": file not found. Fix: pass an existing file with --config, e.g. --config config/berth.yaml");
    } catch (JsonProcessingException e) {
      throw new ConfigException(name + ": not valid YAML at line " + e.getLocation().getLineNr()
          + ": " + e.getOriginalMessage() + ". Fix: correct the YAML syntax there");
    } catch (IOException e) {
      throw new ConfigException(name + ": cannot be read (" + e.getMessage() + "). Fix: check the path and its permissions");
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      throw new ConfigException(name + ": the file is empty. Fix: start from config/berth.yaml");
    }
    ConfigNode root = new ConfigNode(name, "", tree).onlyKeys(Set.of("listen", "launcher", "docker", "sessions", "routes"));
    LauncherKind launcher = root.child("launcher").choice(LauncherKind.class, LauncherKind.AUTO);
    return new BerthConfig(
        absolute,
        absolute.getParent(),
        listen(root.child("listen")),
        launcher,
        docker(root.child("docker")),
        sessions(root.child("sessions")),
        routes(root.child("routes"), launcher));
  }

  private static ListenConfig listen(ConfigNode node) {
    node.onlyKeys(Set.of("host", "port", "maxFrameSize"));
    return new ListenConfig(
        node.child("host").string("127.0.0.1"),
        node.child("port").integer(8080, 0, 65535),
        (int) node.child("maxFrameSize").bytes(16L * MIB, 1024, 64L * MIB));
  }

  private static DockerConfig docker(ConfigNode node) {
    node.onlyKeys(Set.of("host", "network", "apiTimeout"));
    String host = node.child("host").string("unix:///var/run/docker.sock");
    if (!host.startsWith("unix://") && !host.startsWith("tcp://")) {
      throw node.child("host").error("'" + host + "' is not an engine address", "use unix:///var/run/docker.sock or tcp://host:port");
    }
    return new DockerConfig(host, node.child("network").string("berth-sessions"),
        node.child("apiTimeout").duration(Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofMinutes(10)));
  }

  private static SessionsConfig sessions(ConfigNode node) {
    node.onlyKeys(Set.of("onShutdown", "reapInterval"));
    return new SessionsConfig(
        node.child("onShutdown").choice(SessionsConfig.OnShutdown.class, SessionsConfig.OnShutdown.KEEP),
        node.child("reapInterval").duration(Duration.ofSeconds(15), Duration.ofMillis(100), Duration.ofHours(1)));
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
    node.onlyKeys(Set.of("name", "path", "version", "docker", "process", "maxSessions", "limits", "timeouts", "buffer"));
    String name = node.child("name").requiredString(node.path() + ".name: listings");
    if (!ROUTE_NAME.matcher(name).matches()) {
      throw node.child("name").error("'" + name + "' is not a valid route name", "use 1-32 lower-case letters, digits or '-', starting with a letter or digit");
    }
    String path = node.child("path").requiredString(node.path() + ".path: /ws");
    if (!ROUTE_PATH.matcher(path).matches() || RESERVED_PATHS.contains(path)) {
      throw node.child("path").error("'" + path + "' cannot be a websocket path", "use an absolute path such as /ws, other than " + RESERVED_PATHS);
    }
    ConfigNode docker = node.child("docker").onlyKeys(Set.of("image", "port"));
    ConfigNode process = node.child("process").onlyKeys(Set.of("command"));
    String image = docker.child("image").string(null);
    List<String> command = process.child("command").list(part -> part.string(null));
    if (launcher != LauncherKind.PROCESS && image == null) {
      throw docker.child("image").error("is missing while launcher is '" + launcher.name().toLowerCase() + "'",
          "add " + docker.path() + ".image: berth/handler:0.1.0 (built by handler-image/build-image.sh), or set launcher: process");
    }
    if (launcher != LauncherKind.DOCKER && command.isEmpty()) {
      throw process.child("command").error("is missing while launcher is '" + launcher.name().toLowerCase() + "'",
          "add " + process.path() + ".command: [java, -jar, ../handler-image/target/berth-handler.jar], or set launcher: docker");
    }
    return new RouteConfig(
        name,
        path,
        node.child("version").string("dev"),
        image,
        docker.child("port").integer(8080, 1, 65535),
        command,
        node.child("maxSessions").integer(100, 1, 100_000),
        limits(node.child("limits")),
        timeouts(node.child("timeouts")),
        buffer(node.child("buffer")),
        node.path());
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
        node.child("stop").duration(Duration.ofSeconds(3), Duration.ZERO, Duration.ofMinutes(1)),
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
