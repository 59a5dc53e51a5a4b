package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.VERSION_LABEL;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.KubernetesConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.PodResource;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Runs each session in its own pod through the Kubernetes API (fabric8's client on the JDK's HTTP
 * client). Pods carry the {@code berth.*} labels and the deterministic name containers get, the
 * sandbox in their spec ({@link KubernetesPods}), and are dialled at their pod IP. A launch creates
 * the pod, waits for it to run, with an address and Ready (the route's start timeout), telling the
 * session its scheduled and pulling steps from the namespace's events ({@link KubernetesEvents}),
 * then asks the handler's {@code /ready} there (its ready timeout). An informer on the namespace's
 * pods reports a pod that ends (out of memory included) or is deleted. API calls block, so they run
 * on named worker pools: one for launches, one for stops.
 */
final class KubernetesLauncher implements Launcher {

    private static final Logger LOG = Logger.getLogger(KubernetesLauncher.class.getName());
    private static final int LAUNCH_WORKERS = 16;
    private static final int STOP_WORKERS = 8;
    /** How long a stop waits for the pod to be gone, past its grace period. */
    private static final Duration REMOVAL_MARGIN = Duration.ofSeconds(10);

    /**
     * Where the gateway dials a running pod: its IP and the route's port in production. The seam
     * exists for the tests' kubelet, whose in-JVM handlers share one address and need ports of
     * their own (docs/kubernetes.md, "What the tests prove").
     */
    @FunctionalInterface
    interface PodAddress {
        PodAddress POD_IP = (pod, route) -> SocketAddress.inetSocketAddress(
                route.containerPort(), pod.getStatus().getPodIP());

        SocketAddress of(Pod pod, RouteConfig route);
    }

    private final Vertx vertx;
    private final KubernetesClient client;
    private final String namespace;
    /** This gateway's id: the {@code berth.gateway} label of the pods it holds. */
    private final String owner;

    private final PodAddress dial;
    private final KnownRoutes routes = new KnownRoutes();
    private final HeldBackends held;
    private final KubernetesDiscovery discovery;
    private final TwoPhaseLaunch launches;
    private final WorkerExecutor launchWorkers;
    private final WorkerExecutor stopWorkers;
    private final KubernetesEvents events;
    private volatile KubernetesWatch watch;

    private KubernetesLauncher(Vertx vertx, KubernetesClient client, String namespace, String owner, PodAddress dial) {
        this.vertx = vertx;
        this.client = client;
        this.namespace = namespace;
        this.owner = owner;
        this.dial = dial;
        this.held = new HeldBackends("pod", LOG, routes, (name, route, grace) -> deletePod(name, grace));
        this.discovery = new KubernetesDiscovery(held, routes, owner, dial);
        this.launches = new TwoPhaseLaunch(vertx);
        this.launchWorkers = vertx.createSharedWorkerExecutor("berth-kubernetes", LAUNCH_WORKERS);
        this.stopWorkers = vertx.createSharedWorkerExecutor("berth-kubernetes-stop", STOP_WORKERS);
        this.events = new KubernetesEvents(vertx, client, namespace);
    }

    /** On the API server the config names, or the one the client finds (in-cluster, else ~/.kube/config). */
    static Future<Launcher> connect(Vertx vertx, BerthConfig config) {
        KubernetesConfig kubernetes = config.kubernetes();
        // Off the loop: the client's discovery reads the kubeconfig or the service account's files.
        return vertx.executeBlocking(
                        () -> {
                            ConfigBuilder settings =
                                    new ConfigBuilder(Config.autoConfigure(null)).withNamespace(kubernetes.namespace());
                            if (kubernetes.master() != null) {
                                settings.withMasterUrl(kubernetes.master());
                            }
                            return new KubernetesClientBuilder()
                                    .withConfig(settings.build())
                                    .withHttpClientFactory(new JdkHttpClientFactory())
                                    .build();
                        },
                        false)
                .compose(client -> connect(vertx, config, client, PodAddress.POD_IP));
    }

    /**
     * With a client of the caller's (the tests' mock API server): the namespace answers, the routes
     * are known, and the pods are watched. Fails with {@link Failure#ENGINE_UNAVAILABLE} when the API
     * server does not answer; the client is closed then, and with the launcher otherwise.
     */
    static Future<Launcher> connect(Vertx vertx, BerthConfig config, KubernetesClient client, PodAddress dial) {
        String namespace = config.kubernetes().namespace();
        KubernetesLauncher launcher = new KubernetesLauncher(
                vertx, client, namespace, config.sessions().gatewayId(), dial);
        return launcher.blocking(() -> client.pods().inNamespace(namespace).list())
                .recover(error -> {
                    launcher.closeQuietly();
                    return Future.failedFuture(new FailureException(
                            Failure.ENGINE_UNAVAILABLE,
                            "the Kubernetes API at " + client.getMasterUrl() + " does not list pods in namespace "
                                    + namespace + " (" + error.getMessage() + ")",
                            error));
                })
                .compose(listed -> launcher.prepare(config.routes()))
                .compose(ready -> {
                    Context context = vertx.getOrCreateContext();
                    // Off the loop: an informer starts with a first list of the pods, and waits for it.
                    return launcher.blocking(() ->
                                    new KubernetesWatch(client, namespace, context, launcher::ended, launcher::heldBy))
                            .onFailure(error -> launcher.closeQuietly());
                })
                .compose(watch -> {
                    launcher.watch = watch;
                    return launcher.followEvents();
                })
                .map(followed -> {
                    LOG.info("launcher kubernetes: configured; pods in namespace " + namespace + " at "
                            + client.getMasterUrl());
                    return launcher;
                });
    }

    @Override
    public String name() {
        return "kubernetes";
    }

    /**
     * Starts the watch on the namespace's events, which gives starting sessions their scheduled and
     * pulling phases. Without it sessions still start, with fewer phases: a Role that lacks the right
     * is told in the log, not a reason to stay down.
     */
    private Future<Void> followEvents() {
        return blocking(events::start).<Void>mapEmpty().recover(error -> {
            LOG.warning("cannot watch the events of namespace " + namespace + " (" + error.getMessage()
                    + "): sessions start without their scheduled and pulling phases. The gateway's Role"
                    + " needs list and watch on events (deploy/kubernetes/rbac.yaml)");
            return Future.succeededFuture();
        });
    }

    /**
     * The NetworkPolicies {@code next} asks for are made ({@link KubernetesPolicies}), then the routes
     * are known, so their pods are this gateway's to find. Images are the kubelet's to pull.
     */
    @Override
    public Future<Void> prepare(List<RouteConfig> next) {
        return blocking(() -> {
                    KubernetesPolicies.apply(client, namespace, next);
                    return null;
                })
                .recover(error -> EngineFailures.failed(
                        error,
                        "cannot make the NetworkPolicies of namespace " + namespace + " (the gateway's Role"
                                + " must allow create, get, update and delete on networkpolicies)"))
                .onSuccess(made -> routes.add(next))
                .mapEmpty();
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        RouteConfig route = request.route();
        // One pod per session whoever holds it: a pod's name cannot change, so its holder is a label.
        String name = EngineLabels.nameOf(route.name(), request.sessionKey());
        // Followed from before its creation: the scheduler may place it before the create call returns.
        KubernetesEvents.PodStart followed = events.follow(name, request.progress(), vertx.getOrCreateContext());
        return launches.run(
                request,
                () -> CreateThenStart.run(
                                held,
                                request,
                                name,
                                "cannot create pod from " + route.image() + " (" + route.key("docker.image")
                                        + ") in namespace " + namespace,
                                () -> blocking(() -> pods().resource(KubernetesPods.of(request, name, owner))
                                        .create()
                                        .getMetadata()
                                        .getName()),
                                created -> blocking(() -> awaitReady(created, route)))
                        .onComplete(started -> followed.done()));
    }

    /**
     * Blocking: waits for the pod to run with an address and its Ready condition (the kubelet's view:
     * its containers started, its readiness gates passed), and says where to dial it. Fails if it ends
     * first, or at once when its image cannot be pulled: the kubelet would only back off and retry.
     */
    private SocketAddress awaitReady(String name, RouteConfig route) {
        // A little past the start timeout, so that the launch's own deadline, which names the setting, is what fails.
        long within = route.timeouts().start().plusSeconds(1).toMillis();
        Pod pod = pods().withName(name)
                .waitUntilCondition(
                        seen -> seen == null
                                || (KubernetesPods.running(seen) && KubernetesPods.ready(seen))
                                || KubernetesPods.ended(seen) != null
                                || KubernetesPods.cannotPull(seen) != null,
                        within,
                        TimeUnit.MILLISECONDS);
        if (pod == null) {
            throw new FailureException(Failure.START_FAILED, "pod " + name + " was deleted while it started");
        }
        String ended = KubernetesPods.ended(pod);
        if (ended != null) {
            throw new FailureException(Failure.EXITED_EARLY, ended);
        }
        String cannotPull = KubernetesPods.cannotPull(pod);
        if (cannotPull != null) {
            throw new FailureException(
                    Failure.START_FAILED, cannotPull + " (" + route.key("docker.image") + ": can the nodes pull it?)");
        }
        return dial.of(pod, route);
    }

    /** Deletes the pod (SIGTERM, then SIGKILL after its grace period) and waits until it is gone; gone is done. */
    private Future<Void> deletePod(String name, Duration grace) {
        return stopWorkers.executeBlocking(
                () -> {
                    PodResource pod = pods().withName(name);
                    pod.withGracePeriod(Math.max(1, grace.toSeconds())).delete();
                    pod.waitUntilCondition(
                            Objects::isNull, grace.plus(REMOVAL_MARGIN).toMillis(), TimeUnit.MILLISECONDS);
                    return null;
                },
                false);
    }

    /** From the watch: a held pod's exit ends its session; one we do not hold that ended is garbage. */
    private void ended(String name, String why) {
        if (held.exited(name, why) || why.endsWith("was deleted")) {
            return;
        }
        if (held.look().leavesAlone(name, name)) {
            return; // a launch in flight: its own wait sees the end
        }
        LOG.info("removing ended pod " + name + " (" + why + ")");
        deletePod(name, Duration.ZERO);
    }

    /**
     * Labels the claimed pool pod with its session (and no longer as a pool entry), so a restarted
     * or another gateway finds it as that session. The claim itself was settled by the handler, which
     * accepts one session only: only its winner labels it.
     */
    @Override
    public Future<Backend> claim(Backend pooled, String sessionKey) {
        return blocking(() -> pods().withName(pooled.reference).edit(pod -> KubernetesPods.claimedBy(pod, sessionKey)))
                .map(claimed -> pooled.claimedBy(
                        sessionKey,
                        pooled.description().replace(")", ", session " + sessionKey + ")"),
                        pooled.reference))
                .recover(error -> EngineFailures.failed(error, "cannot label " + pooled.description()));
    }

    /** From the watch: a pod another gateway took over; its session here lets go of it. */
    private void heldBy(String name, String holder) {
        if (!holder.equals(owner)) {
            held.movedTo(name, holder);
        }
    }

    /**
     * Labels the pod of session {@code sessionKey} as this gateway's, with an update carrying the
     * resourceVersion it was read at: the API server's compare-and-set ({@link KubernetesTakeOver}). Of two gateways taking it at
     * once one wins; the other (409 Conflict) reads it again and takes it from the winner, so the
     * newest connection wins, as within one gateway. The previous holder's watch sees the label change.
     */
    @Override
    public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
        return blocking(() -> TakeOverRetry.take(
                        sessionKey, () -> KubernetesTakeOver.attempt(pods(), route, sessionKey, owner)))
                .compose(pod -> {
                    if (pod == null) {
                        return Future.succeededFuture();
                    }
                    String name = pod.getMetadata().getName();
                    if (!KubernetesPods.running(pod) || KubernetesPods.ended(pod) != null) {
                        LOG.info("removing pod " + name + ": it no longer runs");
                        return held.remove(name, route.name()).map((Backend) null);
                    }
                    return Future.succeededFuture(held.handle(
                            name,
                            name,
                            sessionKey,
                            route.name(),
                            KubernetesPods.label(pod, VERSION_LABEL),
                            dial.of(pod, route)));
                });
    }

    /** Running pods of our routes that this gateway holds (by label) and has no handle for; ended ones are removed. */
    @Override
    public Future<List<Backend>> discover() {
        HeldBackends.Look look = held.look();
        return blocking(() -> pods().withLabel(MANAGED_LABEL, "true").list().getItems())
                .map(found -> discovery.adopt(found, look));
    }

    /**
     * Other gateways' pods on our routes, running or starting, counted in the watch's cache (no API
     * call), so admission limits and the pool hold across the gateways of one namespace.
     */
    @Override
    public Future<Elsewhere> heldElsewhere() {
        KubernetesWatch watching = watch;
        return Future.succeededFuture(watching == null ? Elsewhere.NONE : discovery.elsewhere(watching.pods()));
    }

    /** Down while the pods' watch does not run: the API server does not answer it (for /health and the metric). */
    @Override
    public EngineStatus engineStatus() {
        if (watch == null || watch.watching()) {
            return EngineStatus.NO_ENGINE;
        }
        return new EngineStatus(
                EngineStatus.State.DOWN,
                "the watch on the pods of namespace " + namespace + " is not running: the Kubernetes API at "
                        + client.getMasterUrl() + " does not answer it",
                0);
    }

    @Override
    public boolean backendsOutliveGateway() {
        return true;
    }

    private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
                    Pod, io.fabric8.kubernetes.api.model.PodList, PodResource>
            pods() {
        return client.pods().inNamespace(namespace);
    }

    private <T> Future<T> blocking(Callable<T> call) {
        return launchWorkers.executeBlocking(call, false);
    }

    @Override
    public Future<Void> close() {
        return held.removalsDone().eventually(launches::close).eventually(this::closeQuietly);
    }

    private Future<Void> closeQuietly() {
        return vertx.<Void>executeBlocking(
                        () -> {
                            events.close();
                            if (watch != null) {
                                watch.close();
                            }
                            client.close();
                            return null;
                        },
                        false)
                .eventually(launchWorkers::close)
                .eventually(stopWorkers::close)
                .recover(error -> Future.<Void>succeededFuture());
    }
}
