package dev.berth.gateway.launcher;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.net.SocketAddress;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Runs each session in its own container through the Docker Engine API. Containers carry the
 * {@code berth.*} labels and a deterministic name, sit on a bridge network where they cannot
 * reach each other, publish no port (the gateway dials their bridge address), and run with the
 * route's memory, CPU and pids limits. Engine calls block, so they run on a named worker pool;
 * engine events arrive on a docker-java thread and are handed back to the launcher's context.
 */
final class DockerLauncher implements Launcher {

  static final String MANAGED_LABEL = "berth.managed";
  private static final Logger LOG = Logger.getLogger(DockerLauncher.class.getName());
  private static final int WORKER_POOL_SIZE = 8;
  private static final long MIN_RECONNECT_DELAY_MS = 500;
  private static final long MAX_RECONNECT_DELAY_MS = 30_000;

  private final Vertx vertx;
  private final Context context;
  private final DockerClient docker;
  private final DockerConfig config;
  private final WorkerExecutor workers;
  private final TwoPhaseLaunch launches;
  /** Exit promises of the containers this launcher made, by container id; event-loop only. */
  private final Map<String, Promise<String>> exits = new HashMap<>();
  /** Removals under way, so closing the launcher waits for them instead of cutting them off. */
  private final Set<Future<Void>> removals = new HashSet<>();
  private Closeable eventStream;
  private Instant eventsLostSince;
  private long reconnectDelayMs = MIN_RECONNECT_DELAY_MS;
  private boolean closed;

  private DockerLauncher(Vertx vertx, DockerConfig config) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.config = config;
    DockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder()
        .withDockerHost(config.host())
        .build();
    this.docker = DockerClientImpl.getInstance(clientConfig, new ApacheDockerHttpClient.Builder()
        .dockerHost(clientConfig.getDockerHost())
        .maxConnections(WORKER_POOL_SIZE + 2)
        .connectionTimeout(Duration.ofSeconds(3))
        .responseTimeout(Duration.ofSeconds(60))
        .build());
    this.workers = vertx.createSharedWorkerExecutor("berth-docker", WORKER_POOL_SIZE);
    this.launches = new TwoPhaseLaunch(vertx);
  }

  /**
   * Connects to the engine and prepares it: the sessions network exists, every route's image is
   * present, and container deaths are watched. Fails with {@link LaunchFailure#ENGINE_UNAVAILABLE}
   * when no engine answers, so {@code launcher: auto} can fall back.
   */
  static Future<Launcher> connect(Vertx vertx, DockerConfig config, List<RouteConfig> routes) {
    DockerLauncher launcher = new DockerLauncher(vertx, config);
    return launcher.blocking(() -> launcher.docker.pingCmd().exec())
        .recover(error -> Future.failedFuture(new LaunchException(LaunchFailure.ENGINE_UNAVAILABLE,
            "no Docker engine answers at " + config.host() + " (" + error.getMessage() + ")", error)))
        .compose(pong -> launcher.blocking(() -> {
          launcher.ensureNetwork();
          routes.forEach(launcher::requireImage);
          launcher.removeExitedContainers();
          return null;
        }))
        .onFailure(error -> launcher.closeQuietly())
        .map(ready -> {
          launcher.watchDeaths();
          return launcher;
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
    String name = "berth-" + route.name() + "-" + request.sessionKey();
    return blocking(() -> createContainer(name, request))
        .compose(id -> {
          Promise<String> exit = Promise.promise();
          exits.put(id, exit);
          String description = "container " + name + " (" + id.substring(0, 12) + ")";
          return blocking(() -> startAndLocate(id, route))
              .map(address -> new Backend(description, address, exit.future(), () -> remove(id, route)))
              .recover(error -> remove(id, route).transform(removed -> Future.failedFuture(
                  LaunchException.wrap(error, failureOf(error), "cannot start " + description))));
        }, error -> Future.failedFuture(LaunchException.wrap(error, failureOf(error),
            "cannot create container from " + route.image() + " (" + route.key("docker.image") + ")")));
  }

  /** An engine that cannot be reached is "cannot launch now" (503), not a failed backend (502). */
  private static LaunchFailure failureOf(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (cause instanceof IOException) {
        return LaunchFailure.ENGINE_UNAVAILABLE;
      }
    }
    return LaunchFailure.START_FAILED;
  }

  private String createContainer(String name, LaunchRequest request) {
    RouteConfig route = request.route();
    RouteConfig.Limits limits = route.limits();
    HostConfig host = HostConfig.newHostConfig()
        .withNetworkMode(config.network())
        .withMemory(limits.memoryBytes())
        .withMemorySwap(limits.memoryBytes())
        .withNanoCPUs((long) (limits.cpus() * 1e9))
        .withPidsLimit(limits.pids())
        .withCapDrop(Capability.ALL)
        .withSecurityOpts(List.of("no-new-privileges"));
    return docker.createContainerCmd(route.image())
        .withName(name)
        .withLabels(Map.of(
            MANAGED_LABEL, "true",
            "berth.session", request.sessionKey(),
            "berth.route", route.name(),
            "berth.version", route.version()))
        .withEnv(HandlerEnvironment.of(request, route.containerPort()).asList())
        .withHostConfig(host)
        .exec()
        .getId();
  }

  private SocketAddress startAndLocate(String id, RouteConfig route) {
    docker.startContainerCmd(id).exec();
    ContainerNetwork network = docker.inspectContainerCmd(id).exec()
        .getNetworkSettings().getNetworks().get(config.network());
    if (network == null || network.getIpAddress() == null || network.getIpAddress().isEmpty()) {
      throw new LaunchException(LaunchFailure.START_FAILED,
          "container " + id.substring(0, 12) + " has no address on network " + config.network());
    }
    return SocketAddress.inetSocketAddress(route.containerPort(), network.getIpAddress());
  }

  /** Stop (SIGTERM, then SIGKILL after the route's stop timeout) and remove; gone is done. */
  private Future<Void> remove(String id, RouteConfig route) {
    int stopSeconds = (int) Math.ceil(route.timeouts().stop().toMillis() / 1000.0);
    Future<Void> removal = this.<Void>blocking(() -> {
      try {
        docker.stopContainerCmd(id).withTimeout(stopSeconds).exec();
      } catch (NotFoundException | NotModifiedException alreadyStopped) {
        // nothing to stop; removal below still applies
      }
      forceRemove(id);
      return null;
    }).onComplete(done -> {
      exits.remove(id);
      if (done.failed()) {
        LOG.warning("could not remove container " + id.substring(0, 12) + ": " + done.cause().getMessage());
      }
    });
    removals.add(removal);
    removal.onComplete(done -> removals.remove(removal));
    return removal;
  }

  private void forceRemove(String id) {
    try {
      docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
    } catch (NotFoundException | ConflictException alreadyGoing) {
      // already removed, or the engine is removing it: either way it is gone
    }
  }

  private void ensureNetwork() {
    boolean exists = docker.listNetworksCmd().withNameFilter(config.network()).exec().stream()
        .anyMatch(network -> network.getName().equals(config.network()));
    if (!exists) {
      docker.createNetworkCmd()
          .withName(config.network())
          .withDriver("bridge")
          .withOptions(Map.of("com.docker.network.bridge.enable_icc", "false"))
          .withLabels(Map.of(MANAGED_LABEL, "true"))
          .exec();
      LOG.info("created network " + config.network() + " (bridge, containers cannot reach each other)");
    }
  }

  private void requireImage(RouteConfig route) {
    try {
      docker.inspectImageCmd(route.image()).exec();
    } catch (NotFoundException e) {
      throw new LaunchException(LaunchFailure.START_FAILED, "image " + route.image() + " ("
          + route.key("docker.image") + ") is not on this engine and no registry can be pulled from; "
          + "build it with handler-image/build-image.sh");
    }
  }

  /** Containers that died while no gateway watched are only garbage: remove them. */
  private void removeExitedContainers() {
    docker.listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(Map.of(MANAGED_LABEL, "true"))
        .withStatusFilter(List.of("exited", "dead"))
        .exec()
        .forEach(container -> forceRemove(container.getId()));
  }

  private void watchDeaths() {
    var events = docker.eventsCmd()
        .withEventTypeFilter(EventType.CONTAINER)
        .withEventFilter("die")
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
        String exitCode = event.getActor() == null ? null : event.getActor().getAttributes().get("exitCode");
        context.runOnContext(v -> containerDied(event.getId(), exitCode));
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

  private void containerDied(String id, String exitCode) {
    Promise<String> exit = exits.get(id);
    if (exit != null) {
      exit.tryComplete("container exited with status " + exitCode);
    } else {
      // Not one of ours (another gateway's, or left from an earlier run): dead anyway.
      blocking(() -> {
        forceRemove(id);
        return null;
      });
    }
  }

  /** Reconnects with a growing delay while the engine is away, asking for the deaths missed. */
  private void eventStreamBroke(String why) {
    if (closed) {
      return;
    }
    if (eventsLostSince == null) {
      eventsLostSince = Instant.now();
    }
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
    return workers.executeBlocking(call, false);
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
      docker.close();
      return null;
    }, false).<Void>mapEmpty().eventually(workers::close).recover(error -> Future.succeededFuture());
  }
}
