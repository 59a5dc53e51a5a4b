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

    private final KubernetesMockServer server;
    /** The kubelet's own client (each launcher gets another, which it closes). */
    public final KubernetesClient client;

    private final SharedIndexInformer<Pod> informer;
    private final ExecutorService work = Executors.newCachedThreadPool();
    /** The handlers running, by pod name. */
    private final Map<String, Running> handlers = new ConcurrentHashMap<>();
    /** Whether pods created from now on fail at once, their container exiting before it serves. */
    private volatile boolean failing;

    private record Running(String route, HandlerServer server) {}

    public TestKubelet() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
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

    /** As a kubelet: the container runs (the shipped handler, in this JVM), then the pod is Running and Ready. */
    private void run(Pod pod) {
        String name = pod.getMetadata().getName();
        if (failing) {
            ended(name, 1, "Error");
            return;
        }
        Map<String, String> env = new HashMap<>();
        for (EnvVar variable : pod.getSpec().getContainers().get(0).getEnv()) {
            env.put(variable.getName(), variable.getValue());
        }
        env.put("BERTH_HOST", "127.0.0.1");
        env.put("BERTH_PORT", "0");
        try {
            HandlerServer handler = InJvmLauncher.serve(env, "pod-" + name, () -> ended(name, 0, "Completed"));
            handlers.put(name, new Running(KubernetesPods.label(pod, EngineLabels.ROUTE_LABEL), handler));
            client.pods()
                    .inNamespace(NAMESPACE)
                    .withName(name)
                    .edit(seen -> new PodBuilder(seen)
                            .editMetadata()
                            .addToAnnotations(PORT_ANNOTATION, Integer.toString(handler.actualPort()))
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
                            .withStatus("True")
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
        } catch (Exception e) {
            ended(name, 1, "Error");
        }
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

    @Override
    public void close() throws Exception {
        for (var call = server.takeRequest(0, TimeUnit.SECONDS);
                call != null;
                call = server.takeRequest(0, TimeUnit.SECONDS)) {
            if (LAUNCHER_AGENT.equals(call.getHeader("User-Agent"))) {
                LAUNCHER_CALLS.add(call.getMethod() + " " + call.getPath());
            }
        }
        informer.close();
        handlers.keySet().stream().toList().forEach(this::stop);
        work.shutdownNow();
        work.awaitTermination(5, TimeUnit.SECONDS);
        client.close();
        server.destroy();
    }
}
