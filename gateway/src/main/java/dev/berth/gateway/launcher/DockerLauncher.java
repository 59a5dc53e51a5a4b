package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import com.github.dockerjava.api.model.HostConfig;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.io.Closeable;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Runs each session in its own container through the Docker Engine API. Containers carry the
 * {@code berth.*} labels and a deterministic name, sit on a bridge network where they cannot
 * reach each other, publish no port (the gateway dials their bridge address), and run with the
 * route's memory, CPU and pids limits. Engine calls block, so they run on named worker pools: one
 * for launches and one for stops, so a burst of session ends never delays new sessions. Engine
 * events arrive on a docker-java thread and are handed back to the launcher's context.
 */
final class DockerLauncher implements Launcher {

  static final String MANAGED_LABEL = "berth.managed";
  static final String SESSION_LABEL = "berth.session";
  static final String ROUTE_LABEL = "berth.route";
  static final String VERSION_LABEL = "berth.version";
  /** On warm-pool containers: their session is named at claim time, by their new name. */
  static final String POOL_LABEL = "berth.pool";
  /** A session's container: {@code berth-<route>-<key>}, then {@code .<gateway id>} unless its holder is the default gateway. */
  private static final java.util.regex.Pattern CLAIMED_NAME =
      java.util.regex.Pattern.compile("berth-(.+)-([0-9a-f]{24})(?:\\.[a-z0-9-]+)?");
  /** The gateway id whose containers carry no suffix: a deployment of one gateway. */
  public static final String DEFAULT_GATEWAY = "default";
  private static final Logger LOG = Logger.getLogger(DockerLauncher.class.getName());
  private static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(3);
  private static final long MIN_RECONNECT_DELAY_MS = 500;
  private static final long MAX_RECONNECT_DELAY_MS = 30_000;

  private final Vertx vertx;
  private final Context context;
  private final EngineConnection engine;
  private final DockerClient docker;
  private final DockerConfig config;
  /** This gateway's id: its containers' names end with it (none for the default gateway). */
  private final String owner;
  private final KnownRoutes routes = new KnownRoutes();
  private final EngineWatch watch;
  private final TwoPhaseLaunch launches;
  /** Exit promises of the containers this launcher holds a handle for, by container id; event-loop only. */
  private final Map<String, Promise<String>> exits = new HashMap<>();
  /** Completed with the new holder when another gateway takes a container over, by container id; event-loop only. */
  private final Map<String, Promise<String>> moves = new HashMap<>();
  /** Names of containers being created, so discovery never adopts a launch in flight. */
  private final Set<String> creating = new HashSet<>();
  /** Containers the engine reported out of memory, until their death is reported. */
  private final Set<String> outOfMemory = new HashSet<>();
  /** Removals under way, so closing the launcher waits for them instead of cutting them off. */
  private final Set<Future<Void>> removals = new HashSet<>();
  /**
   * Containers this gateway stopped that the engine did not remove (it was away), by id, with
   * their route: removed again at every look on the engine until it works, and never adopted.
   */
  private final Map<String, String> owedRemovals = new HashMap<>();
  private Closeable eventStream;
  private Instant eventsLostSince;
  private long reconnectDelayMs = MIN_RECONNECT_DELAY_MS;
  private boolean closed;
  /**
   * Whether another gateway's container was ever seen (by a count or an engine look), so a default
   * gateway, alone on its engine as a rule, counts other gateways' backends only from then on.
   */
  private volatile boolean othersSeen;

  private DockerLauncher(Vertx vertx, DockerConfig config, String owner, EngineWatch watch) {
    this.vertx = vertx;
    this.owner = owner;
    this.context = vertx.getOrCreateContext();
    this.config = config;
    this.watch = watch;
    this.engine = new EngineConnection(vertx, config);
    this.docker = engine.docker;
    this.launches = new TwoPhaseLaunch(vertx);
  }

  /**
   * Connects to the engine and prepares it: the sessions network exists, every route's image is
   * present, and container deaths are watched. Fails with {@link Failure#ENGINE_UNAVAILABLE}
   * when no engine answers, so {@code launcher: auto} can fall back.
   */
  static Future<Launcher> connect(Vertx vertx, DockerConfig config, List<RouteConfig> routes, String gatewayId,
      EngineWatch watch) {
    DockerLauncher launcher = new DockerLauncher(vertx, config, gatewayId, watch);
    return launcher.engine.ping()
        .compose(pong -> launcher.prepare(routes))
        .onFailure(error -> launcher.closeQuietly())
        .map(ready -> {
          launcher.watchDeaths();
          return launcher;
        });
  }

  @Override
  public Future<Void> prepare(List<RouteConfig> next) {
    return blocking(() -> {
      HostIsolation.ensure(next.stream().map(this::networkOf).distinct()
          .map(network -> ensureNetwork(network, network.equals(config.network()))).toList());
      for (RouteConfig route : next) {
        engine.requireImages(route);
      }
      return null;
    }).map(ready -> {
      routes.add(next);
      return null;
    });
  }

  @Override
  public String name() {
    return "docker";
  }

  @Override
  public Future<Backend> launch(LaunchRequest request) {
    return launches.run(request, () -> createAndStart(request));
  }

  private Future<Backend> createAndStart(LaunchRequest request) {
    RouteConfig route = request.route();
    String name = nameFor(route.name(), request.sessionKey());
    creating.add(name);
    return blocking(() -> createContainer(name, request))
        .onComplete(created -> creating.remove(name))
        .compose(id -> {
          String key = request.pooled() ? null : request.sessionKey();
          Backend backend = handle(id, name, key, route.name(), route.version(), null);
          return blocking(() -> startAndLocate(id, route))
              .map(address -> handle(id, name, key, route.name(), route.version(), address))
              .recover(error -> backend.stop().transform(removed -> Future.failedFuture(
                  FailureException.wrap(error, EngineConnection.failureOf(error), "cannot start " + backend.description()))));
        }, error -> Future.failedFuture(FailureException.wrap(error, EngineConnection.failureOf(error),
            "cannot create container from " + route.image() + " (" + route.key("docker.image") + ")")));
  }

  /** The name of this gateway's container for {@code sessionKey} (or a pool entry's name) on {@code route}. */
  private String nameFor(String route, String sessionKey) {
    return "berth-" + route + "-" + sessionKey + (owner.equals(DEFAULT_GATEWAY) ? "" : "." + owner);
  }

  /** The gateway a container's name says holds it. */
  private static String ownerOf(String name) {
    int dot = name.lastIndexOf('.');
    return dot < 0 ? DEFAULT_GATEWAY : name.substring(dot + 1);
  }

  /** The handle of one of our containers; its exit is reported by the engine's events. */
  private Backend handle(String id, String name, String sessionKey, String route, String version, SocketAddress address) {
    Promise<String> exit = exits.computeIfAbsent(id, known -> Promise.promise());
    Promise<String> moved = moves.computeIfAbsent(id, known -> Promise.promise());
    return new Backend(describe(name, id), id, sessionKey, route, version, address, exit.future(), moved.future(),
        () -> remove(id, route), () -> forget(id));
  }

  /** Holds no handle for the container any more: discovery looks at it again. */
  private void forget(String id) {
    exits.remove(id);
    moves.remove(id);
  }

  private static String describe(String name, String id) {
    return "container " + name + " (" + id.substring(0, 12) + ")";
  }

  /**
   * Names the claimed container after its session, so a restarted gateway finds the session by
   * name (its labels were fixed at creation, before the session existed). The claim itself was
   * settled by the handler, which accepts one session only: only its winner renames it.
   */
  @Override
  public Future<Backend> claim(Backend pooled, String sessionKey) {
    String name = nameFor(pooled.routeName(), sessionKey);
    return blocking(() -> {
      docker.renameContainerCmd(pooled.reference).withName(name).exec();
      return name;
    }).map(renamed -> pooled.claimedBy(sessionKey, describe(renamed, pooled.reference), pooled.reference))
        .recover(error -> Future.failedFuture(
            FailureException.wrap(error, EngineConnection.failureOf(error), "cannot rename " + pooled.description())));
  }

  private String createContainer(String name, LaunchRequest request) {
    RouteConfig route = request.route();
    RouteConfig.Limits limits = route.limits();
    RouteConfig.Sandbox sandbox = route.sandbox();
    HostConfig host = HostConfig.newHostConfig()
        .withNetworkMode(networkOf(route))
        .withMemory(limits.memoryBytes())
        .withMemorySwap(limits.memoryBytes())
        .withNanoCPUs((long) (limits.cpus() * 1e9))
        .withPidsLimit(limits.pids())
        .withCapDrop(Capability.ALL)
        .withSecurityOpts(List.of("no-new-privileges"))
        .withReadonlyRootfs(sandbox.readOnlyRootFilesystem());
    if (sandbox.readOnlyRootFilesystem()) {
      host.withTmpFs(Map.of("/tmp", "rw,noexec,nosuid,nodev,size=" + sandbox.tmpfsBytes()));
    }
    return docker.createContainerCmd(route.image())
        .withName(name)
        .withUser(sandbox.user())
        .withLabels(request.pooled()
            ? Map.of(MANAGED_LABEL, "true", POOL_LABEL, "true", ROUTE_LABEL, route.name(), VERSION_LABEL, route.version())
            : Map.of(MANAGED_LABEL, "true", SESSION_LABEL, request.sessionKey(), ROUTE_LABEL, route.name(),
                VERSION_LABEL, route.version()))
        .withEnv(HandlerEnvironment.of(request, route.containerPort()).asList())
        .withHostConfig(host)
        .exec()
        .getId();
  }

  private SocketAddress startAndLocate(String id, RouteConfig route) {
    docker.startContainerCmd(id).exec();
    ContainerNetwork network = docker.inspectContainerCmd(id).exec()
        .getNetworkSettings().getNetworks().get(networkOf(route));
    if (network == null || network.getIpAddress() == null || network.getIpAddress().isEmpty()) {
      throw new FailureException(Failure.START_FAILED,
          "container " + id.substring(0, 12) + " has no address on network " + networkOf(route));
    }
    return SocketAddress.inetSocketAddress(route.containerPort(), network.getIpAddress());
  }

  /**
   * Stop (SIGTERM, then SIGKILL after the route's stop timeout) and remove; gone is done. Runs on
   * the stop pool, so ending many sessions at once never holds up launches.
   */
  private Future<Void> remove(String id, String routeName) {
    RouteConfig route = routes.get(routeName);
    Duration stopTimeout = route == null ? DEFAULT_STOP_TIMEOUT : route.timeouts().stop();
    String network = route == null ? config.network() : networkOf(route);
    Future<Void> removal = engine.<Void>stopping(network, stopTimeout, () -> {
      engine.stopAndRemove(id, stopTimeout);
      return null;
    }).onComplete(done -> {
      forget(id);
      if (done.failed()) {
        owedRemovals.put(id, routeName);
        LOG.warning("could not remove container " + id.substring(0, 12) + ": " + done.cause().getMessage()
            + "; trying again at each look on the engine (sessions.reapInterval)");
      } else {
        owedRemovals.remove(id);
      }
    });
    removals.add(removal);
    removal.onComplete(done -> removals.remove(removal));
    return removal;
  }

  /** Sessions without egress sit on an internal network: no route off the machine at all. */
  private String networkOf(RouteConfig route) {
    return route.sandbox().egress() == RouteConfig.Egress.NONE ? config.network() : config.network() + "-egress";
  }

  /**
   * Makes sure a routes' network exists as Berth needs it: a bridge with inter-container traffic
   * off, internal unless it is the egress one. One left by an older Berth with other settings is
   * made again while no container uses it; otherwise the gateway refuses to start rather than run
   * sessions less isolated than configured.
   */
  /** @return the host's interface for the network, for {@link HostIsolation} */
  private String ensureNetwork(String name, boolean internal) {
    var existing = docker.listNetworksCmd().withNameFilter(name).exec().stream()
        .filter(network -> network.getName().equals(name)).findFirst();
    if (existing.isPresent()) {
      var network = docker.inspectNetworkCmd().withNetworkId(existing.get().getId()).exec();
      boolean isolated = "false".equals(network.getOptions().get("com.docker.network.bridge.enable_icc"))
          && Boolean.TRUE.equals(network.getInternal()) == internal;
      if (isolated) {
        return HostIsolation.bridgeInterface(network.getId(), network.getOptions());
      }
      if (network.getContainers() != null && !network.getContainers().isEmpty()) {
        throw new FailureException(Failure.START_FAILED, "network " + name + " exists with other isolation settings"
            + " and containers use it; stop them, remove it (docker network rm " + name + "), and start again");
      }
      docker.removeNetworkCmd(network.getId()).exec();
      LOG.info("removed network " + name + ": it had other isolation settings than Berth needs");
    }
    String id;
    try {
      id = docker.createNetworkCmd()
          .withName(name)
          .withDriver("bridge")
          .withInternal(internal)
          .withOptions(Map.of("com.docker.network.bridge.enable_icc", "false"))
          .withLabels(Map.of(MANAGED_LABEL, "true"))
          .withCheckDuplicate(true) // two gateways starting at once make one network, not two of one name
          .exec()
          .getId();
    } catch (ConflictException madeMeanwhile) {
      return ensureNetwork(name, internal); // another gateway made it first: check it as found
    }
    LOG.info("created network " + name + " (bridge, containers cannot reach each other"
        + (internal ? ", no route off the machine)" : ", outbound traffic allowed)"));
    return HostIsolation.bridgeInterface(id, Map.of());
  }

  @Override
  public Future<List<Backend>> discover() {
    Set<String> held = new HashSet<>(exits.keySet());
    Set<String> inFlight = Set.copyOf(creating);
    Map.copyOf(owedRemovals).forEach(this::remove);
    return blocking(() -> docker.listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(Map.of(MANAGED_LABEL, "true"))
        .exec())
        .map(containers -> {
          List<Backend> found = new ArrayList<>();
          for (Container container : containers) {
            String name = container.getNames().length == 0 ? "" : container.getNames()[0].replaceFirst("^/", "");
            // Other routes, or another gateway's containers: not ours to adopt (a client takes a session over).
            boolean ours = routes.contains(container.getLabels().get(ROUTE_LABEL)) && ownerOf(name).equals(owner);
            othersSeen = othersSeen || !ownerOf(name).equals(owner);
            if (!ours || held.contains(container.getId()) || inFlight.contains(name) || exits.containsKey(container.getId())
                || owedRemovals.containsKey(container.getId())) {
              continue;
            }
            leftover(container, name).ifPresent(found::add);
          }
          return found;
        });
  }

  /**
   * A running container becomes a handle to adopt. A dead one, or one created but never started
   * (its launch broke off), is garbage and removed.
   */
  private Optional<Backend> leftover(Container container, String name) {
    String state = container.getState() == null ? "" : container.getState();
    Map<String, String> labels = container.getLabels();
    String route = labels.get(ROUTE_LABEL);
    boolean pooled = "true".equals(labels.get(POOL_LABEL));
    java.util.regex.Matcher claimed = CLAIMED_NAME.matcher(name);
    // A pool container's session is in its name once claimed; before that it has none.
    String key = !pooled ? labels.get(SESSION_LABEL) : claimed.matches() ? claimed.group(2) : null;
    String address = addressOf(container, routes.get(route));
    boolean staleEntry = pooled && key == null && !routes.get(route).version().equals(labels.get(VERSION_LABEL));
    if (state.equals("running") && staleEntry) {
      LOG.info("removing pool container " + name + ": version " + labels.get(VERSION_LABEL) + ", the route runs "
          + routes.get(route).version());
      remove(container.getId(), route);
      return Optional.empty();
    }
    if (state.equals("running") && (key != null || pooled) && address != null) {
      SocketAddress at = SocketAddress.inetSocketAddress(routes.get(route).containerPort(), address);
      return Optional.of(handle(container.getId(), name, key, route, labels.get(VERSION_LABEL), at));
    }
    boolean launchBrokeOff = state.equals("created")
        && Instant.ofEpochSecond(container.getCreated()).isBefore(Instant.now().minusSeconds(60));
    if (state.equals("exited") || state.equals("dead") || launchBrokeOff) {
      LOG.info("removing leftover container " + name + " (" + state + ")");
      removeDead(container.getId(), routes.get(route));
    }
    return Optional.empty();
  }

  private String addressOf(Container container, RouteConfig route) {
    if (container.getNetworkSettings() == null || container.getNetworkSettings().getNetworks() == null) {
      return null;
    }
    ContainerNetwork network = container.getNetworkSettings().getNetworks().get(networkOf(route));
    return network == null || network.getIpAddress() == null || network.getIpAddress().isEmpty()
        ? null : network.getIpAddress();
  }

  @Override
  public boolean backendsOutliveGateway() {
    return true;
  }

  @Override
  public EngineStatus engineStatus() {
    return engine.status();
  }

  private void watchDeaths() {
    var events = engine.events.eventsCmd()
        .withEventTypeFilter(EventType.CONTAINER)
        .withEventFilter("die", "oom", "rename")
        .withLabelFilter(Map.of(MANAGED_LABEL, "true"));
    if (eventsLostSince != null) {
      events.withSince(Long.toString(eventsLostSince.getEpochSecond())); // replay deaths we missed
    }
    eventStream = events.exec(new ResultCallback.Adapter<Event>() {
      /** A broken stream may report both an error and its completion: reconnect once. */
      private final AtomicBoolean ended = new AtomicBoolean();

      @Override
      public void onStart(Closeable stream) {
        super.onStart(stream);
        context.runOnContext(v -> {
          eventsLostSince = null;
          reconnectDelayMs = MIN_RECONNECT_DELAY_MS;
        });
      }

      @Override
      public void onNext(Event event) {
        if ("oom".equals(event.getAction())) {
          context.runOnContext(v -> outOfMemory.add(event.getId()));
          return;
        }
        Map<String, String> attributes = event.getActor() == null ? Map.of() : event.getActor().getAttributes();
        if ("rename".equals(event.getAction())) {
          context.runOnContext(v -> renamed(event.getId(), attributes.getOrDefault("name", "")));
          return;
        }
        if (routes.contains(attributes.get(ROUTE_LABEL))) { // other routes: another gateway's to clean up
          context.runOnContext(v -> containerDied(event.getId(), attributes.get(ROUTE_LABEL), attributes.get("exitCode")));
        }
      }

      @Override
      public void onError(Throwable error) {
        if (ended.compareAndSet(false, true)) {
          context.runOnContext(v -> eventStreamBroke(error.getMessage()));
        }
      }

      @Override
      public void onComplete() {
        if (ended.compareAndSet(false, true)) {
          context.runOnContext(v -> eventStreamBroke("the engine ended it"));
        }
      }
    });
  }

  @Override
  public Future<Elsewhere> heldElsewhere() {
    if (owner.equals(DEFAULT_GATEWAY) && !othersSeen) {
      return Future.succeededFuture(Elsewhere.NONE); // one gateway, as long as no other has shown up
    }
    return blocking(() -> {
      Elsewhere.Tally counts = new Elsewhere.Tally();
      for (Container container : docker.listContainersCmd().withShowAll(true)
          .withLabelFilter(Map.of(MANAGED_LABEL, "true")).exec()) {
        String name = container.getNames().length == 0 ? "" : container.getNames()[0].replaceFirst("^/", "");
        boolean taking = "running".equals(container.getState()) || "created".equals(container.getState());
        String route = container.getLabels().getOrDefault(ROUTE_LABEL, "");
        if (taking && !ownerOf(name).equals(owner) && routes.contains(route)) { // other routes: another deployment's
          counts.count(route, ownerOf(name));
        }
      }
      Elsewhere found = counts.result();
      othersSeen = othersSeen || found.total() > 0;
      return found;
    });
  }

  /** A container renamed to another gateway's name was taken over there: its session here lets go. */
  private void renamed(String id, String newName) {
    String holder = ownerOf(newName);
    Promise<String> moved = moves.get(id);
    if (moved != null && !holder.equals(owner)) {
      forget(id);
      moved.tryComplete(holder);
    }
  }

  /**
   * Renames the running container of session {@code sessionKey} to this gateway's name for it,
   * from the name it was found with: the engine renames atomically, so of two gateways taking
   * the same session at once one wins, and the other finds it again under the winner's name and
   * takes it from there (the newest connection wins, as within one gateway).
   */
  @Override
  public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
    String mine = nameFor(route.name(), sessionKey);
    return blocking(() -> {
      for (int attempt = 0; attempt < 3; attempt++) {
        Optional<Container> found = docker.listContainersCmd()
            .withLabelFilter(Map.of(MANAGED_LABEL, "true", ROUTE_LABEL, route.name()))
            .withNameFilter(List.of("berth-" + route.name() + "-" + sessionKey))
            .exec().stream().findFirst();
        if (found.isEmpty()) {
          return null;
        }
        String name = found.get().getNames()[0].replaceFirst("^/", "");
        try {
          if (!name.equals(mine)) {
            docker.renameContainerCmd(found.get().getId()).withName(mine).exec();
          }
          LOG.info("took session " + sessionKey + " over from gateway " + ownerOf(name) + " (container " + name + ")");
          return found.get();
        } catch (NotFoundException | ConflictException takenMeanwhile) {
          // another gateway renamed it first: look again
        }
      }
      throw new FailureException(Failure.START_FAILED, "session " + sessionKey + " kept moving between gateways");
    }).map(container -> {
      if (container == null) {
        return null;
      }
      String address = addressOf(container, route);
      if (address == null) {
        throw new FailureException(Failure.UNREACHABLE, "container " + mine + " has no address on " + networkOf(route));
      }
      return handle(container.getId(), mine, sessionKey, route.name(), container.getLabels().get(VERSION_LABEL),
          SocketAddress.inetSocketAddress(route.containerPort(), address));
    });
  }

  private void containerDied(String id, String routeName, String exitCode) {
    Promise<String> exit = exits.get(id);
    boolean killedForMemory = outOfMemory.remove(id);
    if (exit != null) {
      exit.tryComplete("container exited with status " + exitCode + (killedForMemory ? " (out of memory)" : ""));
    } else {
      removeDead(id, routes.get(routeName)); // not one we hold (another gateway's, or an earlier run's): dead anyway
    }
  }

  /** Removes a container that is not running, in its network's turn. */
  private void removeDead(String id, RouteConfig route) {
    engine.stopping(route == null ? config.network() : networkOf(route), Duration.ZERO, () -> {
      engine.forceRemove(id);
      return null;
    });
  }

  /** Reconnects with a growing delay while the engine is away, asking for the deaths missed. */
  private void eventStreamBroke(String why) {
    if (closed) {
      return;
    }
    if (eventsLostSince == null) {
      eventsLostSince = Instant.now();
    }
    watch.eventStreamReconnecting();
    long delay = reconnectDelayMs;
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
    LOG.warning("lost the engine's event stream (" + why + "); reconnecting in " + delay + "ms");
    vertx.setTimer(delay, id -> {
      if (!closed) {
        watchDeaths();
      }
    });
  }

  private <T> Future<T> blocking(Callable<T> call) {
    return engine.blocking(call);
  }

  @Override
  public Future<Void> close() {
    closed = true;
    return Future.join(List.copyOf(removals)).<Void>mapEmpty()
        .eventually(launches::close)
        .eventually(this::closeQuietly);
  }

  private Future<Void> closeQuietly() {
    closed = true;
    return vertx.executeBlocking(() -> {
      if (eventStream != null) {
        eventStream.close();
      }
      return null;
    }, false).<Void>mapEmpty()
        .eventually(engine::close)
        .recover(error -> Future.succeededFuture());
  }
}
