package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.VERSION_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ownerOf;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerNetwork;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.logging.Logger;

/**
 * Runs each session in its own container through the Docker Engine API. Containers carry the
 * {@code berth.*} labels and a deterministic name, sit on a bridge network where they cannot
 * reach each other, publish no port (the gateway dials their bridge address), and run with the
 * route's memory, CPU and pids limits. Engine calls block, so they run on named worker pools: one
 * for launches and one for stops, so a burst of session ends never delays new sessions. Engine
 * events arrive on a docker-java thread and are handed back to the launcher's context.
 */
final class DockerLauncher implements Launcher, DockerEvents.Listener {

    private static final Logger LOG = Logger.getLogger(DockerLauncher.class.getName());

    private final EngineConnection engine;
    private final DockerClient docker;
    /** This gateway's id: its containers' names end with it (none for the default gateway). */
    private final String owner;

    private final KnownRoutes routes = new KnownRoutes();
    private final DockerNetworks networks;
    private final HeldBackends held;
    private final DockerEvents events;
    private final DockerDiscovery discovery;
    private final TwoPhaseLaunch launches;

    private final SessionLogs logs;

    private DockerLauncher(Vertx vertx, DockerConfig config, String owner, SessionLogs logs, EngineWatch watch) {
        this.owner = owner;
        this.logs = logs;
        this.engine = new EngineConnection(vertx, config);
        this.docker = engine.docker;
        this.networks = new DockerNetworks(docker, config);
        this.held = new HeldBackends("container", LOG, routes, this::stopAndRemove);
        this.events = new DockerEvents(vertx, engine.events, routes, watch, this);
        this.discovery = new DockerDiscovery(engine, networks, held, routes, owner);
        this.launches = new TwoPhaseLaunch(vertx);
    }

    /**
     * Connects to the engine and prepares it: the sessions network exists, every route's image is
     * present, and container deaths are watched. Fails with {@link Failure#ENGINE_UNAVAILABLE}
     * when no engine answers, so {@code launcher: auto} can fall back.
     */
    static Future<Launcher> connect(Vertx vertx, BerthConfig berth, EngineWatch watch) {
        DockerConfig config = berth.docker();
        List<RouteConfig> routes = berth.routes();
        DockerLauncher launcher =
                new DockerLauncher(vertx, config, berth.sessions().gatewayId(), new SessionLogs(berth.log()), watch);
        return launcher.engine
                .ping()
                .compose(pong -> launcher.prepare(routes))
                .onFailure(error -> launcher.closeQuietly())
                .map(ready -> {
                    launcher.events.watchDeaths();
                    return launcher;
                });
    }

    @Override
    public Future<Void> prepare(List<RouteConfig> next) {
        return blocking(() -> {
                    HostIsolation.ensure(networks.ensure(next));
                    for (RouteConfig route : next) {
                        engine.requireImages(route);
                    }
                    return null;
                })
                .map(ready -> {
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
        String name = EngineLabels.nameFor(route.name(), request.sessionKey(), owner);
        return CreateThenStart.run(
                held,
                request,
                name,
                "cannot create container from " + route.image() + " (" + route.key("docker.image") + ")",
                () -> blocking(() -> createContainer(name, request)),
                id -> blocking(() -> startAndLocate(id, route)));
    }

    /**
     * Names the claimed container after its session, so a restarted gateway finds the session by
     * name (its labels were fixed at creation, before the session existed). The claim itself was
     * settled by the handler, which accepts one session only: only its winner renames it.
     */
    @Override
    public Future<Backend> claim(Backend pooled, String sessionKey) {
        String name = EngineLabels.nameFor(pooled.routeName(), sessionKey, owner);
        return blocking(() -> {
                    docker.renameContainerCmd(pooled.reference).withName(name).exec();
                    return name;
                })
                .map(renamed ->
                        pooled.claimedBy(sessionKey, held.describe(renamed, pooled.reference), pooled.reference))
                .recover(error -> EngineFailures.failed(error, "cannot rename " + pooled.description()));
    }

    private String createContainer(String name, LaunchRequest request) {
        RouteConfig route = request.route();
        SandboxSpec sandbox = SandboxSpec.of(route);
        return docker.createContainerCmd(route.image())
                .withName(name)
                .withUser(sandbox.user())
                .withLabels(EngineLabels.of(request))
                .withEnv(HandlerEnvironment.of(request, route.containerPort()).asList())
                .withHostConfig(DockerHostConfig.of(sandbox, networks.of(route)))
                .exec()
                .getId();
    }

    private SocketAddress startAndLocate(String id, RouteConfig route) {
        docker.startContainerCmd(id).exec();
        ContainerNetwork network = docker.inspectContainerCmd(id)
                .exec()
                .getNetworkSettings()
                .getNetworks()
                .get(networks.of(route));
        if (network == null
                || network.getIpAddress() == null
                || network.getIpAddress().isEmpty()) {
            throw new FailureException(
                    Failure.START_FAILED,
                    "container " + id.substring(0, 12) + " has no address on network " + networks.of(route));
        }
        return SocketAddress.inetSocketAddress(route.containerPort(), network.getIpAddress());
    }

    /**
     * Stop (SIGTERM, then SIGKILL after the route's stop timeout), keep its log if asked, and remove;
     * gone is done. Runs on
     * the stop pool, so ending many sessions at once never holds up launches.
     */
    private Future<Void> stopAndRemove(String id, RouteConfig route, Duration stopTimeout) {
        return engine.stopping(networks.of(route), stopTimeout, () -> {
            engine.stop(id, stopTimeout);
            logs.keep(docker, id);
            engine.forceRemove(id);
            return null;
        });
    }

    @Override
    public Future<List<Backend>> discover() {
        return discovery.discover();
    }

    @Override
    public Future<Elsewhere> heldElsewhere() {
        return discovery.heldElsewhere();
    }

    @Override
    public boolean backendsOutliveGateway() {
        return true;
    }

    @Override
    public EngineStatus engineStatus() {
        return engine.status();
    }

    /** A container renamed to another gateway's name was taken over there: its session here lets go. */
    @Override
    public void renamed(String id, String newName) {
        String holder = ownerOf(newName);
        if (!holder.equals(owner)) {
            held.movedTo(id, holder);
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
        String mine = EngineLabels.nameFor(route.name(), sessionKey, owner);
        return blocking(() -> TakeOverRetry.take(sessionKey, () -> {
                    Optional<Container> found = docker
                            .listContainersCmd()
                            .withLabelFilter(Map.of(MANAGED_LABEL, "true", ROUTE_LABEL, route.name()))
                            .withNameFilter(List.of(EngineLabels.nameOf(route.name(), sessionKey)))
                            .exec()
                            .stream()
                            .findFirst();
                    if (found.isEmpty()) {
                        return null;
                    }
                    String name = DockerDiscovery.nameOf(found.get());
                    try {
                        if (!name.equals(mine)) {
                            docker.renameContainerCmd(found.get().getId())
                                    .withName(mine)
                                    .exec();
                        }
                    } catch (NotFoundException | ConflictException takenMeanwhile) {
                        throw new TakeOverRetry.Lost(); // another gateway renamed it first: look again
                    }
                    LOG.info("took session " + sessionKey + " over from gateway " + ownerOf(name) + " (container "
                            + name + ")");
                    return found.get();
                }))
                .map(container -> {
                    if (container == null) {
                        return null;
                    }
                    String address = discovery.addressOf(container, route);
                    if (address == null) {
                        throw new FailureException(
                                Failure.UNREACHABLE, "container " + mine + " has no address on " + networks.of(route));
                    }
                    return held.handle(
                            container.getId(),
                            mine,
                            sessionKey,
                            route.name(),
                            container.getLabels().get(VERSION_LABEL),
                            SocketAddress.inetSocketAddress(route.containerPort(), address));
                });
    }

    @Override
    public void died(String id, String routeName, String exitCode, boolean killedForMemory) {
        if (!held.exited(
                id, "container exited with status " + exitCode + (killedForMemory ? " (out of memory)" : ""))) {
            // not one we hold (another gateway's, or an earlier run's): dead anyway
            discovery.removeDead(id, routes.get(routeName));
        }
    }

    private <T> Future<T> blocking(Callable<T> call) {
        return engine.blocking(call);
    }

    @Override
    public Future<Void> close() {
        events.stop();
        return held.removalsDone().eventually(launches::close).eventually(this::closeQuietly);
    }

    private Future<Void> closeQuietly() {
        return events.close().eventually(engine::close).recover(error -> Future.succeededFuture());
    }
}
