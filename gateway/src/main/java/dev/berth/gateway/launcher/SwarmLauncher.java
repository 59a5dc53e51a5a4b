package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.GATEWAY_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.POOL_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.SESSION_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.VERSION_LABEL;
import static dev.berth.gateway.launcher.SwarmServices.labelsOf;

import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    private static final Logger LOG = Logger.getLogger(SwarmLauncher.class.getName());

    private final EngineConnection engine;
    private final DockerConfig.Swarm config;
    private final String owner;
    private final TwoPhaseLaunch launches;
    private final KnownRoutes routes = new KnownRoutes();
    private final SwarmServices services;
    private final SwarmNetworks networks;
    private final SwarmDial dial;
    private final HeldBackends held;
    private final SwarmWatch watch;
    /** This gateway's node: tasks dialled at their own address are placed on it. */
    private String nodeId;

    private SwarmLauncher(Vertx vertx, DockerConfig config, String owner) {
        this.engine = new EngineConnection(vertx, config);
        this.config = config.swarm();
        this.owner = owner;
        this.launches = new TwoPhaseLaunch(vertx);
        this.services = new SwarmServices(engine);
        this.networks = new SwarmNetworks(engine, this.config);
        this.dial = new SwarmDial(vertx, engine, services, this.config);
        this.held = new HeldBackends("service", LOG, routes, this::removeService);
        this.watch = new SwarmWatch(vertx, engine, services, held, routes, owner);
    }

    /**
     * Connects to a swarm manager and prepares it: the sessions networks exist, every route's image
     * is there, and the services are watched. Fails with {@link Failure#ENGINE_UNAVAILABLE} when
     * no engine answers, and says how to start a swarm when the engine is not a manager of one.
     */
    static Future<Launcher> connect(Vertx vertx, DockerConfig config, List<RouteConfig> routes, String gatewayId) {
        SwarmLauncher launcher = new SwarmLauncher(vertx, config, gatewayId);
        return launcher.engine
                .ping()
                .compose(pong -> launcher.engine.blocking(launcher::joinSwarm))
                .compose(node -> launcher.prepare(routes))
                .onFailure(error -> launcher.engine.close())
                .map(ready -> {
                    launcher.watch.start();
                    return launcher;
                });
    }

    private Void joinSwarm() {
        JsonObject swarm = ((JsonObject) engine.api("GET", "/info", null)).getJsonObject("Swarm", new JsonObject());
        if (!"active".equals(swarm.getString("LocalNodeState")) || !swarm.getBoolean("ControlAvailable", false)) {
            throw new FailureException(
                    Failure.START_FAILED,
                    "the engine at " + engine.host() + " is not a swarm manager"
                            + " (launcher: swarm); run docker swarm init --advertise-addr <this node's address>,"
                            + " or use launcher: docker");
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
                        bridges.add(networks.ensure(route.sandbox().egress()));
                        engine.requireImages(route);
                    }
                    HostIsolation.ensure(
                            bridges.stream().distinct().toList()); // this node's; other nodes need the same rules
                    return null;
                })
                .map(ready -> {
                    routes.add(next);
                    return null;
                });
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        return launches.run(request, () -> createAndRun(request));
    }

    private Future<Backend> createAndRun(LaunchRequest request) {
        RouteConfig route = request.route();
        String name = EngineLabels.nameOf(route.name(), request.sessionKey());
        String network = networks.of(route.sandbox().egress());
        return CreateThenStart.run(
                held,
                request,
                name,
                "cannot create a service from " + route.image() + " (" + route.key("docker.image") + ")",
                () -> engine.blocking(() -> ((JsonObject) engine.api(
                                "POST",
                                "/services/create",
                                SwarmServiceSpec.of(name, request, owner, config, network, nodeId)))
                        .getString("ID")),
                id -> dial.running(
                        id, route, Instant.now().plus(route.timeouts().start())));
    }

    /**
     * Removes the service, which has Swarm stop its task: SIGTERM, then SIGKILL after the route's
     * stop timeout. Swarm does so only seconds after the call (about 5 s here with the sessions
     * network), so a task on this node is stopped and removed at once through the local engine, as
     * the docker launcher does; one on another node is Swarm's to finish. Gone is done.
     */
    private Future<Void> removeService(String id, RouteConfig route, Duration stopTimeout) {
        return engine.<Void>stopping(config.network(), stopTimeout, () -> {
            JsonObject task;
            try {
                task = services.taskOf(id);
                engine.api("DELETE", "/services/" + id, null);
            } catch (EngineConnection.EngineRefusal gone) {
                if (gone.status != 404) {
                    throw gone;
                }
                return null;
            }
            String container = task == null
                    ? null
                    : task.getJsonObject("Status", new JsonObject())
                            .getJsonObject("ContainerStatus", new JsonObject())
                            .getString("ContainerID");
            if (container != null && nodeId.equals(task.getString("NodeID"))) {
                engine.stopAndRemove(container, stopTimeout);
            }
            return null;
        });
    }

    /** Labels the pooled service with its session, so a restarted gateway finds it as that session. */
    @Override
    public Future<Backend> claim(Backend pooled, String sessionKey) {
        return engine.blocking(() -> services.relabel(pooled.reference, labels -> {
                    labels.remove(POOL_LABEL);
                    return labels.put(SESSION_LABEL, sessionKey);
                }))
                .map(service -> pooled.claimedBy(sessionKey, pooled.description(), pooled.reference))
                .recover(error ->
                        EngineFailures.failed(error, "cannot label " + pooled.description() + " with its session"));
    }

    /**
     * Sets this gateway as the holder of session {@code sessionKey}'s service, as a compare-and-set
     * on the service's version: of two gateways taking it at once one wins, and the other reads the
     * service again and takes it from the winner (the newest connection wins, as within one gateway).
     */
    @Override
    public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
        return engine.blocking(() -> TakeOverRetry.take(sessionKey, () -> {
                    JsonArray found = services.ofSession(route.name(), sessionKey);
                    if (found.isEmpty()) {
                        return null;
                    }
                    JsonObject service = found.getJsonObject(0);
                    String holder = labelsOf(service).getString(GATEWAY_LABEL, "");
                    try {
                        if (!holder.equals(owner)) {
                            services.relabel(service.getString("ID"), labels -> labels.put(GATEWAY_LABEL, owner));
                        }
                    } catch (EngineConnection.EngineRefusal takenMeanwhile) {
                        if (!takenMeanwhile.outOfSequence()) {
                            throw takenMeanwhile;
                        }
                        throw new TakeOverRetry.Lost();
                    }
                    LOG.info("took session " + sessionKey + " over from gateway " + holder);
                    return service;
                }))
                .compose(service -> service == null ? Future.succeededFuture() : adopt(service, route, sessionKey));
    }

    /** A handle on a service whose task runs; a service whose task ended is removed, and null returned. */
    private Future<Backend> adopt(JsonObject service, RouteConfig route, String sessionKey) {
        String id = service.getString("ID");
        String name = service.getJsonObject("Spec").getString("Name");
        return engine.blocking(() -> {
                    JsonObject task = services.taskOf(id);
                    boolean runs = task != null
                            && "running"
                                    .equals(task.getJsonObject("Status", new JsonObject())
                                            .getString("State"));
                    return runs ? dial.addressOf(task, route) : null;
                })
                .compose(address -> {
                    if (address == null) {
                        LOG.info("removing service " + name + ": its task no longer runs");
                        return held.remove(id, route.name()).map((Backend) null);
                    }
                    return Future.succeededFuture(held.handle(
                            id,
                            name,
                            sessionKey,
                            route.name(),
                            labelsOf(service).getString(VERSION_LABEL),
                            address));
                });
    }

    @Override
    public Future<List<Backend>> discover() {
        HeldBackends.Look look = held.look();
        return engine.blocking(services::managed).compose(found -> {
            List<Future<Backend>> adopted = new ArrayList<>();
            for (JsonObject service : found) {
                JsonObject labels = labelsOf(service);
                RouteConfig route = routes.get(labels.getString(ROUTE_LABEL));
                boolean mine = route != null && owner.equals(labels.getString(GATEWAY_LABEL));
                String name = service.getJsonObject("Spec").getString("Name");
                if (!mine || look.leavesAlone(service.getString("ID"), name)) {
                    continue;
                }
                String key = labels.getString(SESSION_LABEL);
                if (!held.removedStale(service.getString("ID"), name, key, labels.getString(VERSION_LABEL), route)) {
                    adopted.add(adopt(service, route, key));
                }
            }
            return Future.all(adopted)
                    .map(all -> adopted.stream()
                            .map(Future::result)
                            .filter(backend -> backend != null)
                            .toList());
        });
    }

    @Override
    public Future<Elsewhere> heldElsewhere() {
        return Future.succeededFuture(watch.elsewhere());
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
        watch.stop();
        return held.removalsDone().eventually(launches::close).eventually(engine::close);
    }
}
