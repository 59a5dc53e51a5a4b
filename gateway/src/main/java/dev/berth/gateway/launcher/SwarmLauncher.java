package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.DockerLauncher.MANAGED_LABEL;
import static dev.berth.gateway.launcher.DockerLauncher.POOL_LABEL;
import static dev.berth.gateway.launcher.DockerLauncher.ROUTE_LABEL;
import static dev.berth.gateway.launcher.DockerLauncher.SESSION_LABEL;
import static dev.berth.gateway.launcher.DockerLauncher.VERSION_LABEL;

import com.github.dockerjava.api.model.ContainerNetwork;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * Runs each session as a Swarm service of one task, placed by the Swarm scheduler. A service
 * carries the same {@code berth.*} labels as the docker launcher's containers, plus
 * {@code berth.gateway}: the gateway holding the session. Changing that label is a
 * compare-and-set (Swarm refuses an update made from an outdated version of the service), so
 * of two gateways taking a session over only one wins, without renaming anything. Tasks run with
 * the route's limits and sandbox on a swarm-scoped bridge where they cannot reach each other;
 * how the gateway reaches them is {@code docker.swarm.dial}. Tasks are never restarted by Swarm:
 * a session whose task ends is over. Their state is read every second (the engine reports no
 * task events), and so is every other gateway's share of the routes.
 *
 * <p>The engine's swarm calls go through {@link EngineConnection#api}: docker-java's swarm model
 * lacks the capabilities, the pids limit and the published ports this needs.
 */
final class SwarmLauncher implements Launcher {

  /** The gateway holding a session's service; changed by compare-and-set when another takes it over. */
  static final String GATEWAY_LABEL = "berth.gateway";
  private static final Logger LOG = Logger.getLogger(SwarmLauncher.class.getName());
  private static final long TASK_POLL_MS = 100;
  private static final long WATCH_INTERVAL_MS = 1000;
  private static final int TAKE_OVER_ATTEMPTS = 3;
  private static final Set<String> TASK_ENDED =
      Set.of("complete", "failed", "shutdown", "rejected", "orphaned", "remove");

  private final Vertx vertx;
  private final EngineConnection engine;
  private final DockerConfig.Swarm config;
  private final String owner;
  private final TwoPhaseLaunch launches;
  private final KnownRoutes routes = new KnownRoutes();
  /** This gateway's node: tasks dialled at their own address are placed on it. */
  private String nodeId;
  /** Node addresses by node id, for tasks dialled at a published port. */
  private final Map<String, String> nodeAddresses = new HashMap<>();
  /** Exit promises of the services this launcher holds, by service id; event-loop only. */
  private final Map<String, Promise<String>> exits = new HashMap<>();
  /** Completed with the new holder when another gateway takes a service over, by service id. */
  private final Map<String, Promise<String>> moves = new HashMap<>();
  /** Names of services being created, so discovery never adopts a launch in flight. */
  private final Set<String> creating = new HashSet<>();
  /** Removals under way, by service id: one at a time each, and closing waits for them. */
  private final Map<String, Future<Void>> removals = new HashMap<>();
  /**
   * Services this gateway removed that the engine did not (it was away), by id, with their route:
   * removed again at every look on the engine until it works, and never adopted.
   */
  private final Map<String, String> owedRemovals = new HashMap<>();
  private volatile Elsewhere elsewhere = Elsewhere.NONE;
  private long watchTimer = -1;
  private boolean watching;

  private SwarmLauncher(Vertx vertx, DockerConfig config, String owner) {
    this.vertx = vertx;
    this.engine = new EngineConnection(vertx, config);
    this.config = config.swarm();
    this.owner = owner;
    this.launches = new TwoPhaseLaunch(vertx);
  }

  /**
   * Connects to a swarm manager and prepares it: the sessions networks exist, every route's image
   * is there, and the services are watched. Fails with {@link Failure#ENGINE_UNAVAILABLE} when
   * no engine answers, and says how to start a swarm when the engine is not a manager of one.
   */
  static Future<Launcher> connect(Vertx vertx, DockerConfig config, List<RouteConfig> routes, String gatewayId) {
    SwarmLauncher launcher = new SwarmLauncher(vertx, config, gatewayId);
    return launcher.engine.ping()
        .compose(pong -> launcher.engine.blocking(launcher::joinSwarm))
        .compose(node -> launcher.prepare(routes))
        .onFailure(error -> launcher.engine.close())
        .map(ready -> {
          launcher.watchTimer = vertx.setPeriodic(WATCH_INTERVAL_MS, id -> launcher.watch());
          return launcher;
        });
  }

  private Void joinSwarm() {
    JsonObject swarm = ((JsonObject) engine.api("GET", "/info", null)).getJsonObject("Swarm", new JsonObject());
    if (!"active".equals(swarm.getString("LocalNodeState")) || !swarm.getBoolean("ControlAvailable", false)) {
      throw new FailureException(Failure.START_FAILED, "the engine at " + engine.host() + " is not a swarm manager"
          + " (launcher: swarm); run docker swarm init --advertise-addr <this node's address>, or use launcher: docker");
    }
    nodeId = swarm.getString("NodeID");
    return null;
  }

  @Override
  public String name() {
    return "swarm";
  }

  @Override
  public Future<Void> prepare(List<RouteConfig> next) {
    return engine.blocking(() -> {
      List<String> bridges = new ArrayList<>();
      for (RouteConfig route : next) {
        bridges.add(ensureNetwork(route.sandbox().egress()));
        engine.requireImages(route);
      }
      HostIsolation.ensure(bridges.stream().distinct().toList()); // this node's; other nodes need the same rules
      return null;
    }).map(ready -> {
      routes.add(next);
      return null;
    });
  }

  private String networkOf(RouteConfig.Egress egress) {
    return egress == RouteConfig.Egress.NONE ? config.network() : config.network() + "-egress";
  }

  /**
   * The swarm network a route's tasks join: a bridge on each node, its options (inter-container
   * traffic off) from a config-only network of this node. Other nodes need that config-only network
   * too before tasks can run there (docs/scale-out.md).
   */
  /** @return the host's interface for the network on this node, for {@link HostIsolation} */
  private String ensureNetwork(RouteConfig.Egress egress) {
    String name = networkOf(egress);
    boolean internal = egress == RouteConfig.Egress.NONE;
    if (network(name + "-config") == null) {
      createOnce(new JsonObject().put("Name", name + "-config").put("ConfigOnly", true)
          .put("Options", new JsonObject().put("com.docker.network.bridge.enable_icc", "false"))
          .put("Labels", new JsonObject().put(MANAGED_LABEL, "true")));
    }
    JsonObject existing = network(name);
    if (existing != null) {
      boolean asNeeded = "swarm".equals(existing.getString("Scope"))
          && (name + "-config").equals(existing.getJsonObject("ConfigFrom", new JsonObject()).getString("Network"))
          && existing.getBoolean("Internal", false) == internal;
      if (!asNeeded) {
        throw new FailureException(Failure.START_FAILED, "network " + name + " exists with other settings than the swarm"
            + " launcher needs; remove it (docker network rm " + name + ") once no service uses it, and start again");
      }
      return HostIsolation.bridgeInterface(existing.getString("Id"), Map.of());
    }
    String id = createOnce(new JsonObject().put("Name", name).put("Driver", "bridge")
        .put("Scope", "swarm").put("Internal", internal)
        .put("ConfigFrom", new JsonObject().put("Network", name + "-config")));
    if (id == null) {
      return ensureNetwork(egress); // another gateway made it first: check it as found
    }
    LOG.info("created swarm network " + name + " (a bridge on each node, tasks cannot reach each other"
        + (internal ? ", no route off the machine)" : ", outbound traffic allowed)"));
    return HostIsolation.bridgeInterface(id, Map.of());
  }

  /**
   * Creates a network unless one of its name exists (two gateways starting at once make one, not
   * two of one name); its id, or null when another gateway made it meanwhile.
   */
  private String createOnce(JsonObject spec) {
    try {
      return ((JsonObject) engine.api("POST", "/networks/create", spec.copy().put("CheckDuplicate", true))).getString("Id");
    } catch (EngineConnection.EngineRefusal exists) {
      if (exists.status == 409) {
        return null;
      }
      throw exists;
    }
  }

  private JsonObject network(String name) {
    try {
      return (JsonObject) engine.api("GET", "/networks/" + name, null);
    } catch (EngineConnection.EngineRefusal notThere) {
      if (notThere.status == 404) {
        return null;
      }
      throw notThere;
    }
  }

  @Override
  public Future<Backend> launch(LaunchRequest request) {
    return launches.run(request, () -> createAndRun(request));
  }

  private Future<Backend> createAndRun(LaunchRequest request) {
    RouteConfig route = request.route();
    String name = "berth-" + route.name() + "-" + request.sessionKey();
    String key = request.pooled() ? null : request.sessionKey();
    creating.add(name);
    return engine.blocking(() -> ((JsonObject) engine.api("POST", "/services/create", serviceSpec(name, request)))
            .getString("ID"))
        .onComplete(created -> creating.remove(name))
        .recover(error -> Future.failedFuture(FailureException.wrap(error, EngineConnection.failureOf(error),
            "cannot create a service from " + route.image() + " (" + route.key("docker.image") + ")")))
        .compose(id -> {
          Backend unready = handle(id, name, key, route.name(), route.version(), null);
          return running(id, route, Instant.now().plus(route.timeouts().start()))
              .map(address -> handle(id, name, key, route.name(), route.version(), address))
              .recover(error -> unready.stop().transform(removed -> Future.failedFuture(
                  FailureException.wrap(error, EngineConnection.failureOf(error), "cannot start " + unready.description()))));
        });
  }

  private JsonObject serviceSpec(String name, LaunchRequest request) {
    RouteConfig route = request.route();
    RouteConfig.Sandbox sandbox = route.sandbox();
    JsonObject labels = new JsonObject().put(MANAGED_LABEL, "true").put(ROUTE_LABEL, route.name())
        .put(VERSION_LABEL, route.version()).put(GATEWAY_LABEL, owner);
    labels.put(request.pooled() ? POOL_LABEL : SESSION_LABEL, request.pooled() ? "true" : request.sessionKey());
    JsonObject container = new JsonObject()
        .put("Image", route.image())
        .put("Labels", labels.copy())
        .put("Env", new JsonArray(HandlerEnvironment.of(request, route.containerPort()).asList()))
        .put("User", sandbox.user())
        .put("ReadOnly", sandbox.readOnlyRootFilesystem())
        .put("CapabilityDrop", new JsonArray().add("ALL"))
        .put("StopGracePeriod", route.timeouts().stop().toNanos());
    if (sandbox.readOnlyRootFilesystem()) {
      container.put("Mounts", new JsonArray().add(new JsonObject().put("Type", "tmpfs").put("Target", "/tmp")
          .put("TmpfsOptions", new JsonObject().put("SizeBytes", sandbox.tmpfsBytes()).put("Mode", 01777))));
    }
    JsonObject task = new JsonObject()
        .put("ContainerSpec", container)
        .put("Resources", new JsonObject().put("Limits", new JsonObject()
            .put("MemoryBytes", route.limits().memoryBytes())
            .put("NanoCPUs", (long) (route.limits().cpus() * 1e9))
            .put("Pids", route.limits().pids())))
        .put("RestartPolicy", new JsonObject().put("Condition", "none"))
        .put("Networks", new JsonArray().add(new JsonObject().put("Target", networkOf(sandbox.egress()))));
    JsonObject spec = new JsonObject().put("Name", name).put("Labels", labels).put("TaskTemplate", task)
        .put("Mode", new JsonObject().put("Replicated", new JsonObject().put("Replicas", 1)));
    if (config.dial() == DockerConfig.Dial.TASK) {
      task.put("Placement", new JsonObject().put("Constraints", new JsonArray().add("node.id==" + nodeId)));
    } else {
      spec.put("EndpointSpec", new JsonObject().put("Ports", new JsonArray().add(new JsonObject()
          .put("Protocol", "tcp").put("TargetPort", route.containerPort()).put("PublishMode", "host"))));
    }
    return spec;
  }

  /** Completes with the task's address once it runs; fails as soon as it ends or the deadline passes. */
  private Future<SocketAddress> running(String serviceId, RouteConfig route, Instant deadline) {
    return engine.blocking(() -> taskOf(serviceId)).compose(task -> {
      String state = task == null ? "new" : task.getJsonObject("Status", new JsonObject()).getString("State", "new");
      if (state.equals("running")) {
        return engine.blocking(() -> addressOf(task, route));
      }
      if (TASK_ENDED.contains(state)) {
        return Future.failedFuture(new FailureException(Failure.START_FAILED, "its task is " + state + ": " + why(task)));
      }
      if (Instant.now().isAfter(deadline)) {
        return Future.failedFuture(new FailureException(Failure.START_TIMEOUT, "its task is still " + state
            + (task == null ? "" : " (" + why(task) + ")")));
      }
      Promise<Void> later = Promise.promise();
      vertx.setTimer(TASK_POLL_MS, id -> later.complete());
      return later.future().compose(v -> running(serviceId, route, deadline));
    });
  }

  private static String why(JsonObject task) {
    JsonObject status = task.getJsonObject("Status", new JsonObject());
    String err = status.getString("Err", "");
    return err.isEmpty() ? status.getString("Message", "") : err;
  }

  /** The newest task of a service, or null before the scheduler made one. */
  private JsonObject taskOf(String serviceId) {
    JsonArray tasks = (JsonArray) engine.api("GET", "/tasks?filters=" + filters(new JsonObject()
        .put("service", new JsonArray().add(serviceId))), null);
    JsonObject newest = null;
    for (Object each : tasks) {
      JsonObject task = (JsonObject) each;
      if (newest == null || task.getString("CreatedAt", "").compareTo(newest.getString("CreatedAt", "")) > 0) {
        newest = task;
      }
    }
    return newest;
  }

  private static String filters(JsonObject filters) {
    return URLEncoder.encode(filters.encode(), StandardCharsets.UTF_8);
  }

  /** Where the gateway dials a running task, as {@code docker.swarm.dial} says. */
  private SocketAddress addressOf(JsonObject task, RouteConfig route) {
    JsonObject status = task.getJsonObject("Status", new JsonObject());
    if (config.dial() == DockerConfig.Dial.PUBLISHED) {
      JsonArray ports = status.getJsonObject("PortStatus", new JsonObject()).getJsonArray("Ports", new JsonArray());
      if (ports.isEmpty()) {
        throw new FailureException(Failure.UNREACHABLE, "task " + task.getString("ID") + " publishes no port");
      }
      return SocketAddress.inetSocketAddress(ports.getJsonObject(0).getInteger("PublishedPort"),
          nodeAddress(task.getString("NodeID")));
    }
    String containerId = status.getJsonObject("ContainerStatus", new JsonObject()).getString("ContainerID");
    ContainerNetwork network = containerId == null ? null : engine.docker.inspectContainerCmd(containerId).exec()
        .getNetworkSettings().getNetworks().get(networkOf(route.sandbox().egress()));
    if (network == null || network.getIpAddress() == null || network.getIpAddress().isEmpty()) {
      throw new FailureException(Failure.UNREACHABLE, "task " + task.getString("ID") + " has no address on "
          + networkOf(route.sandbox().egress()));
    }
    return SocketAddress.inetSocketAddress(route.containerPort(), network.getIpAddress());
  }

  private String nodeAddress(String node) {
    synchronized (nodeAddresses) {
      return nodeAddresses.computeIfAbsent(node, id -> ((JsonObject) engine.api("GET", "/nodes/" + id, null))
          .getJsonObject("Status").getString("Addr"));
    }
  }

  private Backend handle(String id, String name, String sessionKey, String route, String version, SocketAddress address) {
    Promise<String> exit = exits.computeIfAbsent(id, known -> Promise.promise());
    Promise<String> moved = moves.computeIfAbsent(id, known -> Promise.promise());
    return new Backend("service " + name + " (" + id.substring(0, 12) + ")", id, sessionKey, route, version, address,
        exit.future(), moved.future(), () -> remove(id, route), () -> forget(id));
  }

  /** Holds no handle for the service any more: discovery looks at it again. */
  private void forget(String id) {
    exits.remove(id);
    moves.remove(id);
  }

  /**
   * Removes the service, which has Swarm stop its task: SIGTERM, then SIGKILL after the route's
   * stop timeout. Swarm does so only seconds after the call (about 5 s here with the sessions
   * network), so a task on this node is stopped and removed at once through the local engine, as
   * the docker launcher does; one on another node is Swarm's to finish. Gone is done.
   */
  private Future<Void> remove(String id, String routeName) {
    Future<Void> under = removals.get(id);
    if (under != null) {
      return under;
    }
    RouteConfig route = routes.get(routeName);
    Duration stopTimeout = route == null ? Duration.ofSeconds(10) : route.timeouts().stop();
    Future<Void> removal = engine.<Void>stopping(config.network(), stopTimeout, () -> {
      JsonObject task;
      try {
        task = taskOf(id);
        engine.api("DELETE", "/services/" + id, null);
      } catch (EngineConnection.EngineRefusal gone) {
        if (gone.status != 404) {
          throw gone;
        }
        return null;
      }
      String container = task == null ? null
          : task.getJsonObject("Status", new JsonObject()).getJsonObject("ContainerStatus", new JsonObject()).getString("ContainerID");
      if (container != null && nodeId.equals(task.getString("NodeID"))) {
        engine.stopAndRemove(container, stopTimeout);
      }
      return null;
    }).onComplete(done -> {
      forget(id);
      if (done.failed()) {
        owedRemovals.put(id, routeName);
        LOG.warning("could not remove service " + id.substring(0, 12) + ": " + done.cause().getMessage()
            + "; trying again at each look on the engine (sessions.reapInterval)");
      } else {
        owedRemovals.remove(id);
      }
    });
    removals.put(id, removal);
    removal.onComplete(done -> removals.remove(id));
    return removal;
  }

  /** Labels the pooled service with its session, so a restarted gateway finds it as that session. */
  @Override
  public Future<Backend> claim(Backend pooled, String sessionKey) {
    return engine.blocking(() -> relabel(pooled.reference, labels -> {
      labels.remove(POOL_LABEL);
      return labels.put(SESSION_LABEL, sessionKey);
    })).map(service -> pooled.claimedBy(sessionKey, pooled.description(), pooled.reference))
        .recover(error -> Future.failedFuture(FailureException.wrap(error, EngineConnection.failureOf(error),
            "cannot label " + pooled.description() + " with its session")));
  }

  /**
   * Changes a service's labels from its current version; throws {@link EngineConnection.EngineRefusal}
   * (out of sequence) when someone changed it meanwhile. Returns the service as it was.
   */
  private JsonObject relabel(String serviceId, UnaryOperator<JsonObject> change) {
    JsonObject service = (JsonObject) engine.api("GET", "/services/" + serviceId, null);
    JsonObject spec = service.getJsonObject("Spec").copy();
    spec.put("Labels", change.apply(spec.getJsonObject("Labels", new JsonObject()).copy()));
    long version = service.getJsonObject("Version").getLong("Index");
    engine.api("POST", "/services/" + serviceId + "/update?version=" + version, spec);
    return service;
  }

  /**
   * Sets this gateway as the holder of session {@code sessionKey}'s service, as a compare-and-set
   * on the service's version: of two gateways taking it at once one wins, and the other reads the
   * service again and takes it from the winner (the newest connection wins, as within one gateway).
   */
  @Override
  public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
    return engine.blocking(() -> {
      for (int attempt = 0; attempt < TAKE_OVER_ATTEMPTS; attempt++) {
        JsonArray found = (JsonArray) engine.api("GET", "/services?filters=" + filters(new JsonObject().put("label",
            new JsonArray().add(ROUTE_LABEL + "=" + route.name()).add(SESSION_LABEL + "=" + sessionKey))), null);
        if (found.isEmpty()) {
          return null;
        }
        JsonObject service = found.getJsonObject(0);
        String holder = labelsOf(service).getString(GATEWAY_LABEL, "");
        try {
          if (!holder.equals(owner)) {
            relabel(service.getString("ID"), labels -> labels.put(GATEWAY_LABEL, owner));
          }
          LOG.info("took session " + sessionKey + " over from gateway " + holder);
          return service;
        } catch (EngineConnection.EngineRefusal takenMeanwhile) {
          if (!takenMeanwhile.outOfSequence()) {
            throw takenMeanwhile;
          }
        }
      }
      throw new FailureException(Failure.START_FAILED, "session " + sessionKey + " kept moving between gateways");
    }).compose(service -> service == null ? Future.succeededFuture() : adopt(service, route, sessionKey));
  }

  /** A handle on a service whose task runs; a service whose task ended is removed, and null returned. */
  private Future<Backend> adopt(JsonObject service, RouteConfig route, String sessionKey) {
    String id = service.getString("ID");
    String name = service.getJsonObject("Spec").getString("Name");
    return engine.blocking(() -> {
      JsonObject task = taskOf(id);
      boolean runs = task != null && "running".equals(task.getJsonObject("Status", new JsonObject()).getString("State"));
      return runs ? addressOf(task, route) : null;
    }).compose(address -> {
      if (address == null) {
        LOG.info("removing service " + name + ": its task no longer runs");
        return remove(id, route.name()).map((Backend) null);
      }
      return Future.succeededFuture(handle(id, name, sessionKey, route.name(), labelsOf(service).getString(VERSION_LABEL),
          address));
    });
  }

  private static JsonObject labelsOf(JsonObject service) {
    return service.getJsonObject("Spec").getJsonObject("Labels", new JsonObject());
  }

  @Override
  public Future<List<Backend>> discover() {
    Set<String> held = new HashSet<>(exits.keySet());
    Set<String> inFlight = new HashSet<>(creating);
    Map.copyOf(owedRemovals).forEach(this::remove);
    return engine.blocking(this::ourServices).compose(services -> {
      held.addAll(exits.keySet()); // and what was launched or taken over while the engine answered
      inFlight.addAll(creating);
      List<Future<Backend>> adopted = new ArrayList<>();
      for (JsonObject service : services) {
        JsonObject labels = labelsOf(service);
        RouteConfig route = routes.get(labels.getString(ROUTE_LABEL));
        boolean mine = route != null && owner.equals(labels.getString(GATEWAY_LABEL));
        String name = service.getJsonObject("Spec").getString("Name");
        if (!mine || held.contains(service.getString("ID")) || inFlight.contains(name)
            || owedRemovals.containsKey(service.getString("ID"))) {
          continue;
        }
        String key = labels.getString(SESSION_LABEL);
        boolean staleEntry = key == null && !route.version().equals(labels.getString(VERSION_LABEL));
        if (staleEntry) {
          LOG.info("removing pool service " + name + ": version " + labels.getString(VERSION_LABEL)
              + ", the route runs " + route.version());
          remove(service.getString("ID"), route.name());
          continue;
        }
        adopted.add(adopt(service, route, key));
      }
      return Future.all(adopted).map(all -> adopted.stream().map(Future::result)
          .filter(backend -> backend != null).toList());
    });
  }

  private List<JsonObject> ourServices() {
    JsonArray services = (JsonArray) engine.api("GET", "/services?filters="
        + filters(new JsonObject().put("label", new JsonArray().add(MANAGED_LABEL + "=true"))), null);
    return services.stream().map(JsonObject.class::cast).toList();
  }

  /**
   * Every second: the services this gateway holds whose task ended, or that another gateway took
   * over, are reported; other gateways' services on our routes are counted; and services of our
   * routes whose task ended and that no gateway here holds are removed.
   */
  private void watch() {
    if (watching) {
      return;
    }
    watching = true;
    Set<String> heldBefore = Set.copyOf(exits.keySet()); // only these can be judged by what this look finds
    engine.blocking(() -> {
      List<JsonObject> services = ourServices();
      JsonArray tasks = (JsonArray) engine.api("GET", "/tasks", null);
      Map<String, JsonObject> newestTask = new HashMap<>();
      for (Object each : tasks) {
        JsonObject task = (JsonObject) each;
        newestTask.merge(task.getString("ServiceID"), task,
            (a, b) -> a.getString("CreatedAt", "").compareTo(b.getString("CreatedAt", "")) >= 0 ? a : b);
      }
      return new Census(services, newestTask, heldBefore);
    }).onComplete(census -> {
      watching = false;
      if (census.succeeded()) {
        census.result().report();
      }
    });
  }

  /** One look at the swarm's services and their newest tasks. */
  private final class Census {
    private final List<JsonObject> services;
    private final Map<String, JsonObject> newestTask;
    private final Set<String> heldBefore;

    Census(List<JsonObject> services, Map<String, JsonObject> newestTask, Set<String> heldBefore) {
      this.services = services;
      this.newestTask = newestTask;
      this.heldBefore = heldBefore;
    }

    void report() {
      Elsewhere.Tally counts = new Elsewhere.Tally();
      Set<String> present = new HashSet<>();
      for (JsonObject service : services) {
        String id = service.getString("ID");
        present.add(id);
        JsonObject labels = labelsOf(service);
        String holder = labels.getString(GATEWAY_LABEL, "");
        JsonObject task = newestTask.get(id);
        String state = task == null ? "new" : task.getJsonObject("Status", new JsonObject()).getString("State", "new");
        if (!holder.equals(owner) && !TASK_ENDED.contains(state) && routes.contains(labels.getString(ROUTE_LABEL))) {
          counts.count(labels.getString(ROUTE_LABEL), holder);
        }
        if (TASK_ENDED.contains(state) && !exits.containsKey(id) && routes.contains(labels.getString(ROUTE_LABEL))) {
          // Not one this gateway holds (a dead gateway's, whose handler ended by itself): over anyway.
          remove(id, labels.getString(ROUTE_LABEL));
          continue;
        }
        if (!heldBefore.contains(id)) {
          continue; // taken or launched while this look was under way: it may predate that
        }
        if (!holder.equals(owner) && moves.containsKey(id)) {
          Promise<String> moved = moves.get(id);
          forget(id);
          moved.tryComplete(holder);
        } else if (TASK_ENDED.contains(state) && exits.containsKey(id)) {
          Integer code = task.getJsonObject("Status").getJsonObject("ContainerStatus", new JsonObject()).getInteger("ExitCode");
          exits.get(id).tryComplete("task " + state + (code == null ? "" : " with status " + code) + ": " + why(task));
        }
      }
      heldBefore.stream().filter(id -> !present.contains(id) && exits.containsKey(id))
          .forEach(id -> exits.get(id).tryComplete("its service was removed"));
      elsewhere = counts.result();
    }
  }

  @Override
  public Future<Elsewhere> heldElsewhere() {
    return Future.succeededFuture(elsewhere);
  }

  @Override
  public EngineStatus engineStatus() {
    return engine.status();
  }

  @Override
  public boolean backendsOutliveGateway() {
    return true;
  }

  @Override
  public Future<Void> close() {
    vertx.cancelTimer(watchTimer);
    return Future.join(List.copyOf(removals.values())).<Void>mapEmpty()
        .eventually(launches::close)
        .eventually(engine::close);
  }
}
