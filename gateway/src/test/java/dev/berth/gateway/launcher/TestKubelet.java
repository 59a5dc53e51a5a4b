package dev.berth.gateway.launcher;

import dev.berth.gateway.TestBackends;
import dev.berth.handler.HandlerServer;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.vertx.core.net.SocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A Kubernetes API server with a pretend kubelet, for the kubernetes launcher's tests: fabric8's
 * mock server in CRUD mode (pods created, read, watched, updated with resourceVersion checks and
 * deleted as the API does), and a "kubelet" that, for each pod created in {@value #NAMESPACE}, runs
 * the shipped handler inside the test JVM on the pod's environment, then moves the pod to Running
 * and Ready at 127.0.0.1. Deleting a pod stops its handler. What a real cluster does between (the
 * scheduler, the image pull, the container runtime, the sandbox's enforcement) is not here.
 *
 * <p>Every in-JVM handler shares the pod IP 127.0.0.1, so each needs a port of its own: the kubelet
 * writes it in the pod's {@value #PORT_ANNOTATION} annotation and {@link #DIAL} reads it there, in
 * place of the route's port that the launcher dials in production ({@link KubernetesLauncher.PodAddress}).
 */
public final class TestKubelet implements TestBackends {

    public static final String NAMESPACE = "berth";
    static final String PORT_ANNOTATION = "test.berth.dev/port";
    static final KubernetesLauncher.PodAddress DIAL = (pod, route) -> SocketAddress.inetSocketAddress(
            Integer.parseInt(pod.getMetadata().getAnnotations().get(PORT_ANNOTATION)),
            pod.getStatus().getPodIP());

    private final RacingStore store = new RacingStore();
    private final int apiPort;
    private volatile KubernetesMockServer server;
    /** The kubelet's own client (each launcher gets another, which it closes). */
    public final KubernetesClient client;

    private final SharedIndexInformer<Pod> informer;
    private final ExecutorService work = Executors.newCachedThreadPool();
    /** The handlers running, by pod name. */
    private final Map<String, Running> handlers = new ConcurrentHashMap<>();
    /** Whether pods created from now on fail at once, their container exiting before it serves. */
    private volatile boolean failing;
    /** Whether pods created from now on wait for an image the node cannot pull. */
    private volatile boolean unpullable;
    /** Whether pods created from now on run and are never Ready (a readiness gate that never passes). */
    private volatile boolean neverReady;
    /** How long the first pull of an image on this node takes. */
    private volatile long pullMillis;
    /** How long a container takes to start, after its image is there. */
    private volatile long startMillis;
    /** How long the app in a running container takes to listen: the pod runs, its /ready does not answer yet. */
    private volatile long appListensMillis;
    /** When set, the scheduler's and the kubelet's events come this long after the pod runs, not before. */
    private volatile long eventsLateMillis = -1;
    /** The images this node has pulled: a pod of another image pulls it first, as a real node does. */
    private final java.util.Set<String> pulled = ConcurrentHashMap.newKeySet();

    private final java.util.concurrent.atomic.AtomicLong eventNumbers = new java.util.concurrent.atomic.AtomicLong();
    /** Pods whose placement (Scheduled, and Pulling or Pulled) the API server has been told. */
    private final java.util.concurrent.atomic.AtomicInteger placed = new java.util.concurrent.atomic.AtomicInteger();

    private record Running(String route, HandlerServer server) {}

    public TestKubelet() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), store, false);
        server.init();
        apiPort = server.getPort();
        client = server.createClient(new JdkHttpClientFactory()); // its calls are not the launcher's
        informer = client.pods().inNamespace(NAMESPACE).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                if (pod.getStatus() == null || pod.getStatus().getPhase() == null) {
                    work.execute(() -> run(pod));
                }
            }

            @Override
            public void onUpdate(Pod before, Pod pod) {}

            @Override
            public void onDelete(Pod pod, boolean unknown) {
                work.execute(() -> stop(pod.getMetadata().getName()));
            }
        });
    }

    /** The user agent of the launchers' clients, so their calls can be told from the kubelet's and the tests'. */
    private static final String LAUNCHER_AGENT = "berth-launcher-under-test";

    /**
     * Every call a launcher made to any test kubelet's API server in this JVM, as {@code METHOD
     * /path?query}: what the Role in deploy/kubernetes must allow (KubernetesManifestsTest).
     */
    public static final java.util.Set<String> LAUNCHER_CALLS = ConcurrentHashMap.newKeySet();

    /** A client of this API server, as a launcher's: its calls are recorded in {@link #LAUNCHER_CALLS}. */
    public KubernetesClient newClient() {
        try (KubernetesClient template = server.createClient(new JdkHttpClientFactory())) {
            return new io.fabric8.kubernetes.client.KubernetesClientBuilder()
                    .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder(template.getConfiguration())
                            .withUserAgent(LAUNCHER_AGENT)
                            .build())
                    .withHttpClientFactory(new JdkHttpClientFactory())
                    .build();
        }
    }

    /** Where gateways get their launcher: kubernetes, on this API server, dialling the kubelet's ports. */
    public dev.berth.gateway.launcher.LauncherFactory.Source launchers() {
        return (vertx, config, watch) -> KubernetesLauncher.connect(vertx, config, newClient(), DIAL);
    }

    /** Pods created from now on fail at once: their container exits with status 1 before it serves. */
    public TestKubelet failingStarts() {
        failing = true;
        return this;
    }

    /** Pods created from now on wait for an image that cannot be pulled: the kubelet backs off. */
    public TestKubelet unpullableImages() {
        unpullable = true;
        return this;
    }

    /** Pods created from now on run, with an address, and are never Ready. */
    public TestKubelet neverReady() {
        neverReady = true;
        return this;
    }

    /** The first pull of an image on this node takes {@code time} (its Pulling event comes before). */
    public TestKubelet pullTakes(java.time.Duration time) {
        pullMillis = time.toMillis();
        return this;
    }

    /** The app in each container listens {@code time} after the pod runs, as an app that starts slowly. */
    public TestKubelet appListensAfter(java.time.Duration time) {
        appListensMillis = time.toMillis();
        return this;
    }

    /** A container takes {@code time} to start once its image is on the node: its events come that long before it runs. */
    public TestKubelet startTakes(java.time.Duration time) {
        startMillis = time.toMillis();
        return this;
    }

    /**
     * The pods' Scheduled and Pulling events reach the API server {@code delay} after the pods run, as
     * a watch on events that lags behind the watch on pods would deliver them.
     */
    public TestKubelet eventsAfterRunning(java.time.Duration delay) {
        eventsLateMillis = delay.toMillis();
        return this;
    }

    /**
     * As a scheduler and a kubelet: the pod is placed (Scheduled), its image pulled if this node has
     * not yet (Pulling), its container run (the shipped handler, in this JVM), then the pod is
     * Running and Ready, each step told as an event as they do.
     */
    private void run(Pod pod) {
        String name = pod.getMetadata().getName();
        String image = pod.getSpec().getContainers().get(0).getImage();
        boolean pulls = pulled.add(image);
        if (eventsLateMillis < 0) {
            placed(pod, pulls);
        }
        if (failing) {
            ended(name, 1, "Error");
            return;
        }
        if (unpullable) {
            waitingForImage(name, image);
            return;
        }
        Map<String, String> env = new HashMap<>();
        for (EnvVar variable : pod.getSpec().getContainers().get(0).getEnv()) {
            env.put(variable.getName(), variable.getValue());
        }
        env.put("BERTH_HOST", "127.0.0.1");
        try {
            int port;
            if (appListensMillis > 0) {
                try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
                    port = free.getLocalPort();
                }
            } else {
                port = serve(pod, env, 0).actualPort();
            }
            client.pods()
                    .inNamespace(NAMESPACE)
                    .withName(name)
                    .edit(seen -> new PodBuilder(seen)
                            .editMetadata()
                            .addToAnnotations(PORT_ANNOTATION, Integer.toString(port))
                            .endMetadata()
                            .build());
            client.pods()
                    .inNamespace(NAMESPACE)
                    .withName(name)
                    .editStatus(seen -> new PodBuilder(seen)
                            .withNewStatus()
                            .withPhase("Running")
                            .withPodIP("127.0.0.1")
                            .addNewCondition()
                            .withType("Ready")
                            .withStatus(neverReady ? "False" : "True")
                            .endCondition()
                            .addToContainerStatuses(new ContainerStatusBuilder()
                                    .withName(KubernetesPods.CONTAINER)
                                    .withReady(true)
                                    .withNewState()
                                    .withNewRunning()
                                    .endRunning()
                                    .endState()
                                    .build())
                            .endStatus()
                            .build());
            if (eventsLateMillis >= 0) {
                Thread.sleep(eventsLateMillis);
                placed(pod, pulls);
            }
            if (appListensMillis > 0) {
                Thread.sleep(Math.max(0, appListensMillis - Math.max(0, eventsLateMillis)));
                serve(pod, env, port);
            }
        } catch (Exception e) {
            ended(name, 1, "Error");
        }
    }

    /** Runs the pod's handler (the shipped one, in this JVM) on {@code port} (0: any). */
    private HandlerServer serve(Pod pod, Map<String, String> env, int port) throws Exception {
        String name = pod.getMetadata().getName();
        env.put("BERTH_PORT", Integer.toString(port));
        HandlerServer handler = InJvmLauncher.serve(env, "pod-" + name, () -> ended(name, 0, "Completed"));
        handlers.put(name, new Running(KubernetesPods.label(pod, EngineLabels.ROUTE_LABEL), handler));
        return handler;
    }

    /** The events of a pod's placement: Scheduled, then Pulling (taking the pull's time) or the image already there. */
    private void placed(Pod pod, boolean pulls) {
        String image = pod.getSpec().getContainers().get(0).getImage();
        event(
                pod,
                "default-scheduler",
                "Scheduled",
                "Successfully assigned " + NAMESPACE + "/" + pod.getMetadata().getName() + " to test-node");
        if (pulls) {
            event(pod, "kubelet", "Pulling", "Pulling image \"" + image + "\"");
            pause(pullMillis);
            event(pod, "kubelet", "Pulled", "Successfully pulled image \"" + image + "\"");
        } else {
            event(pod, "kubelet", "Pulled", "Container image \"" + image + "\" already present on machine");
        }
        placed.incrementAndGet();
        pause(startMillis);
    }

    /** How many pods' placement events the API server has been told so far. */
    public int placedPods() {
        return placed.get();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        }
    }

    private void event(Pod pod, String component, String reason, String message) {
        client.v1()
                .events()
                .inNamespace(NAMESPACE)
                .resource(new io.fabric8.kubernetes.api.model.EventBuilder()
                        .withNewMetadata()
                        .withName(pod.getMetadata().getName() + "." + eventNumbers.incrementAndGet())
                        .endMetadata()
                        .withNewInvolvedObject()
                        .withKind("Pod")
                        .withNamespace(NAMESPACE)
                        .withName(pod.getMetadata().getName())
                        .withUid(pod.getMetadata().getUid())
                        .endInvolvedObject()
                        .withType("Normal")
                        .withReason(reason)
                        .withMessage(message)
                        .withNewSource()
                        .withComponent(component)
                        .endSource()
                        .build())
                .create();
    }

    /** As a kubelet whose pull failed: the pod stays Pending, its container waiting in ImagePullBackOff. */
    private void waitingForImage(String name, String image) {
        client.pods()
                .inNamespace(NAMESPACE)
                .withName(name)
                .editStatus(seen -> new PodBuilder(seen)
                        .withNewStatus()
                        .withPhase("Pending")
                        .addToContainerStatuses(new ContainerStatusBuilder()
                                .withName(KubernetesPods.CONTAINER)
                                .withImage(image)
                                .withNewState()
                                .withNewWaiting()
                                .withReason("ImagePullBackOff")
                                .withMessage("Back-off pulling image \"" + image + "\"")
                                .endWaiting()
                                .endState()
                                .build())
                        .endStatus()
                        .build());
    }

    /** The pod's container ends: its handler stops at once, and the pod is Failed (or Succeeded) with why. */
    public void ended(String name, int exitCode, String reason) {
        Running running = handlers.remove(name);
        if (running != null) {
            running.server().stop();
        }
        try {
            client.pods()
                    .inNamespace(NAMESPACE)
                    .withName(name)
                    .editStatus(seen -> new PodBuilder(seen)
                            .editOrNewStatus()
                            .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
                            .withContainerStatuses(new ContainerStatusBuilder()
                                    .withName(KubernetesPods.CONTAINER)
                                    .withNewState()
                                    .withNewTerminated()
                                    .withExitCode(exitCode)
                                    .withReason(reason)
                                    .endTerminated()
                                    .endState()
                                    .build())
                            .endStatus()
                            .build());
        } catch (RuntimeException gone) {
            // deleted meanwhile: nothing to report
        }
    }

    /** As the kubelet on a deleted pod: SIGTERM (the handler closes its websockets with 1001), then gone. */
    private void stop(String name) {
        Running running = handlers.remove(name);
        if (running != null) {
            running.server().closeAll(1001, "session over", 2000);
            running.server().stop();
        }
    }

    /** The pod of {@code sessionKey} on {@code route}, as the API server holds it now; null when none. */
    public Pod pod(String route, String sessionKey) {
        return client.pods().inNamespace(NAMESPACE).list().getItems().stream()
                .filter(pod -> route.equals(KubernetesPods.label(pod, EngineLabels.ROUTE_LABEL)))
                .filter(pod -> sessionKey.equals(KubernetesPods.label(pod, EngineLabels.SESSION_LABEL)))
                .findFirst()
                .orElse(null);
    }

    @Override
    public int running(String route, String sessionKey) {
        if (sessionKey == null) {
            return (int) handlers.values().stream()
                    .filter(running -> running.route().equals(route))
                    .count();
        }
        // By the pod's labels now: a pool pod gets its session when claimed.
        return (int) client.pods().inNamespace(NAMESPACE).list().getItems().stream()
                .filter(pod -> route.equals(KubernetesPods.label(pod, EngineLabels.ROUTE_LABEL)))
                .filter(pod -> sessionKey.equals(KubernetesPods.label(pod, EngineLabels.SESSION_LABEL)))
                .filter(pod -> handlers.containsKey(pod.getMetadata().getName()))
                .count();
    }

    @Override
    public int running(String route) {
        return running(route, null);
    }

    @Override
    public String address(String route, String sessionKey) {
        Pod pod = pod(route, sessionKey);
        return pod.getStatus().getPodIP() + ":"
                + pod.getMetadata().getAnnotations().get(PORT_ANNOTATION);
    }

    /** The container is killed (exit 137), as a crash or SIGKILL would. */
    @Override
    public void kill(String route, String sessionKey) {
        ended(pod(route, sessionKey).getMetadata().getName(), 137, "Error");
    }

    @Override
    public int removeAll(String route) {
        List<Pod> pods = client.pods().inNamespace(NAMESPACE).list().getItems().stream()
                .filter(pod -> route.equals(KubernetesPods.label(pod, EngineLabels.ROUTE_LABEL)))
                .toList();
        // Left: pods still on the API server whose handler runs (a deleted pod's handler is being stopped).
        int left = (int) pods.stream()
                .filter(pod -> handlers.containsKey(pod.getMetadata().getName()))
                .count();
        pods.forEach(pod -> client.pods().inNamespace(NAMESPACE).resource(pod).delete());
        handlers.keySet().stream().toList().forEach(this::stop);
        return left;
    }

    /**
     * The API server stops answering: its port refuses connections and every watch on it breaks. What
     * it stores is kept for {@link #apiServerUp()}.
     */
    public void apiServerDown() throws InterruptedException {
        recordLauncherCalls();
        server.destroy();
    }

    /** The API server answers again, on the same port, with what it stored. */
    public void apiServerUp() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), store, false);
        server.init(java.net.InetAddress.getLoopbackAddress(), apiPort);
    }

    /**
     * The next time a launcher updates a pod (a take-over), gateway {@code racer} takes that pod first,
     * between the launcher's read and its update, as a third gateway would.
     */
    public void raceTheNextTakeOver(String racer) {
        store.racer = racer;
    }

    /** What the API server answered the launchers' updates that raced (409 Conflict, if it checks versions). */
    public List<Integer> racedAnswers() {
        return List.copyOf(store.racedAnswers);
    }

    /** The API server's store: fabric8's CRUD dispatcher, able to make one take-over race another. */
    private static final class RacingStore extends KubernetesCrudDispatcher {

        private volatile String racer;
        private final List<Integer> racedAnswers = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public MockResponse handleUpdate(RecordedRequest request) {
            String racing = racer;
            if (racing == null
                    || !LAUNCHER_AGENT.equals(request.getHeader("User-Agent"))
                    || !request.getPath().contains("/pods/")) {
                return super.handleUpdate(request);
            }
            racer = null;
            String sent = request.getUtf8Body(); // read once: reading drains the request's body
            io.vertx.core.json.JsonObject pod = new io.vertx.core.json.JsonObject(sent);
            pod.getJsonObject("metadata").getJsonObject("labels").put(EngineLabels.GATEWAY_LABEL, racing);
            super.handleUpdate(withBody(request, pod.encode()));
            MockResponse answer = super.handleUpdate(withBody(request, sent));
            racedAnswers.add(answer.code());
            return answer;
        }

        private static RecordedRequest withBody(RecordedRequest request, String body) {
            return new RecordedRequest(
                    request.getHttpVersion(),
                    request.method(),
                    request.getPath(),
                    request.getHeaders(),
                    new io.fabric8.mockwebserver.http.Buffer(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
    }

    private void recordLauncherCalls() throws InterruptedException {
        for (var call = server.takeRequest(0, TimeUnit.SECONDS);
                call != null;
                call = server.takeRequest(0, TimeUnit.SECONDS)) {
            if (LAUNCHER_AGENT.equals(call.getHeader("User-Agent"))) {
                LAUNCHER_CALLS.add(call.getMethod() + " " + call.getPath());
            }
        }
    }

    @Override
    public void close() throws Exception {
        recordLauncherCalls();
        informer.close();
        handlers.keySet().stream().toList().forEach(this::stop);
        work.shutdownNow();
        work.awaitTermination(5, TimeUnit.SECONDS);
        client.close();
        server.destroy();
    }
}
