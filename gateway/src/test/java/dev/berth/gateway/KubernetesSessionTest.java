package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.LauncherKind;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.TestKubelet;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicySpec;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The whole session contract ({@link SessionBehaviourTest}, with {@link LauncherContractTest}) on
 * {@code launcher: kubernetes}: pods on
 * fabric8's mock API server, run by a test kubelet as the shipped handler inside this JVM
 * ({@link TestKubelet}), so frames really flow through the launcher's pods. What only a real
 * cluster can show (scheduling, the pod IP's reachability, the sandbox enforced) is not proven here.
 * Then what this launcher alone does, on the API's own semantics: the pod it sends, a pod that
 * ends, a pod deleted under it, and re-adoption from labels after a restart.
 */
@Tag("kubernetes")
@CpuCost(seconds = 28)
class KubernetesSessionTest extends SessionBehaviourTest {

    private TestKubelet kubelet;

    /**
     * Every call the launchers made over the class's tests (each test kubelet records them as it
     * closes) is one the Role in deploy/kubernetes allows, and the Role grants nothing they did not
     * need: least privilege, held to the launcher's code.
     */
    @org.junit.jupiter.api.AfterAll
    static void theRoleAllowsEveryCallTheLauncherMadeAndNothingElse() throws Exception {
        assertTrue(
                TestKubelet.LAUNCHER_CALLS.stream()
                        .anyMatch(call -> call.startsWith("POST /api/v1/namespaces/berth/pods")),
                "calls were recorded: " + TestKubelet.LAUNCHER_CALLS);
        assertEquals(
                java.util.List.of(),
                dev.berth.gateway.launcher.KubernetesManifestsTest.notAllowedByTheRole(TestKubelet.LAUNCHER_CALLS),
                "rules the Role in deploy/kubernetes/rbac.yaml lacks; the launcher's calls need "
                        + dev.berth.gateway.launcher.KubernetesManifestsTest.rulesFor(TestKubelet.LAUNCHER_CALLS));
        // Least privilege can only be judged on every test's calls: a run of a few tests makes a few calls.
        java.util.Set<String> tests = new java.util.HashSet<>(); // by name: an overridden test runs once
        for (Class<?> type = KubernetesSessionTest.class; type != Object.class; type = type.getSuperclass()) {
            java.util.Arrays.stream(type.getDeclaredMethods())
                    .filter(method -> method.isAnnotationPresent(Test.class))
                    .forEach(method -> tests.add(method.getName()));
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(FINISHED.get() == tests.size(), "only some of the tests ran");
        java.util.SortedSet<String> unused = dev.berth.gateway.launcher.KubernetesManifestsTest.granted();
        unused.removeAll(dev.berth.gateway.launcher.KubernetesManifestsTest.rulesFor(TestKubelet.LAUNCHER_CALLS));
        assertEquals(java.util.Set.of(), unused, "rules the Role grants that no call of the launcher's needed");
    }

    /** Tests of this class that ran to their end, for the Role's check. */
    private static final java.util.concurrent.atomic.AtomicLong FINISHED = new java.util.concurrent.atomic.AtomicLong();

    @org.junit.jupiter.api.AfterEach
    void countFinished() {
        FINISHED.incrementAndGet();
    }

    @Override
    TestBackends backends(Vertx vertx) {
        kubelet = new TestKubelet();
        return kubelet;
    }

    @Override
    TestGateway.Builder gatewayOn() {
        return TestGateway.on(LauncherKind.KUBERNETES).launchers(kubelet.launchers());
    }

    @Test
    void thePodSentCarriesTheLabelsTheNameTheEnvironmentAndTheWholeSandbox() throws Exception {
        gateway = gatewayOn().start(vertx);
        String health = get("/health");
        assertTrue(
                health.contains("\"launcher\":\"kubernetes\"") && health.contains("\"engine\":{\"state\":\"up\""),
                health);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            Pod pod = kubelet.pod(gateway.route, key);
            assertEquals("berth-" + gateway.route + "-" + key, pod.getMetadata().getName());
            assertEquals(expectedLabels(key), pod.getMetadata().getLabels());

            PodSpec spec = pod.getSpec();
            assertEquals("Never", spec.getRestartPolicy(), "a session's pod is not restarted: its state is gone");
            assertEquals(false, spec.getAutomountServiceAccountToken(), "no service account token");
            assertEquals(false, spec.getEnableServiceLinks());
            assertEquals(1L, spec.getTerminationGracePeriodSeconds(), "the route's timeouts.stop");
            assertEquals(true, spec.getSecurityContext().getRunAsNonRoot());
            assertEquals(65534L, spec.getSecurityContext().getRunAsUser());
            assertEquals(65534L, spec.getSecurityContext().getRunAsGroup());
            assertEquals(
                    "RuntimeDefault",
                    spec.getSecurityContext().getSeccompProfile().getType());

            assertEquals(1, spec.getContainers().size());
            Container container = spec.getContainers().get(0);
            assertEquals(TestGateway.IMAGE, container.getImage());
            assertEquals(8080, container.getPorts().get(0).getContainerPort());
            SecurityContext sandbox = container.getSecurityContext();
            assertEquals(true, sandbox.getRunAsNonRoot());
            assertEquals(true, sandbox.getReadOnlyRootFilesystem());
            assertEquals(false, sandbox.getAllowPrivilegeEscalation());
            assertEquals(false, sandbox.getPrivileged());
            assertEquals(List.of("ALL"), sandbox.getCapabilities().getDrop());
            assertTrue(sandbox.getCapabilities().getAdd() == null
                    || sandbox.getCapabilities().getAdd().isEmpty());
            Map<String, Quantity> limits = container.getResources().getLimits();
            assertEquals(
                    128L << 20, Quantity.getAmountInBytes(limits.get("memory")).longValueExact());
            assertEquals("500m", limits.get("cpu").toString(), "the route's limits.cpus: 0.5");
            assertEquals(limits, container.getResources().getRequests(), "requests = limits: Guaranteed QoS");

            assertEquals(1, container.getVolumeMounts().size());
            assertEquals("/tmp", container.getVolumeMounts().get(0).getMountPath());
            Volume scratch = spec.getVolumes().get(0);
            assertEquals(container.getVolumeMounts().get(0).getName(), scratch.getName());
            assertEquals("Memory", scratch.getEmptyDir().getMedium(), "a tmpfs, as the docker launcher's");
            assertEquals(
                    16L << 20,
                    Quantity.getAmountInBytes(scratch.getEmptyDir().getSizeLimit())
                            .longValueExact(),
                    "the route's docker.tmpfsSize");

            Map<String, String> env =
                    container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
            assertEquals(key, env.get("BERTH_SESSION"));
            assertEquals("8080", env.get("BERTH_PORT"));
            assertEquals("test", env.get("BERTH_VERSION"));
            assertEquals("1", env.get("BERTH_TEST_HOOKS"), "the route's env");
            assertFalse(env.containsKey("BERTH_HOST"), "the handler listens on every address of its pod");
        }
    }

    @Test
    void networkPoliciesLetOnlyGatewaysInAndLetOutOnlyTheRoutesWithEgressOpen() throws Exception {
        gateway = gatewayOn().egress("open").start(vertx);
        var policies = kubelet.client.network().v1().networkPolicies().inNamespace(TestKubelet.NAMESPACE);
        NetworkPolicySpec sessions = policies.withName("berth-sessions").get().getSpec();
        assertEquals(Map.of("berth.managed", "true"), sessions.getPodSelector().getMatchLabels());
        assertEquals(List.of("Ingress", "Egress"), sessions.getPolicyTypes());
        assertEquals(
                Map.of("app.kubernetes.io/name", "berth-gateway"),
                sessions.getIngress().get(0).getFrom().get(0).getPodSelector().getMatchLabels(),
                "in: from the gateways' pods only");
        assertTrue(sessions.getEgress() == null || sessions.getEgress().isEmpty(), "out: nothing");
        NetworkPolicySpec open =
                policies.withName("berth-egress-" + gateway.route).get().getSpec();
        assertEquals(
                Map.of("berth.managed", "true", "berth.route", gateway.route),
                open.getPodSelector().getMatchLabels());
        assertEquals(List.of("Egress"), open.getPolicyTypes());
        assertEquals(1, open.getEgress().size(), "one rule that allows everything");
        assertTrue(open.getEgress().get(0).getTo() == null
                || open.getEgress().get(0).getTo().isEmpty());
        gateway.close();

        gateway = gatewayOn().sameAs(gateway).start(vertx); // the same route, back to egress: none
        assertEquals(null, policies.withName("berth-egress-" + gateway.route).get(), "its egress policy removed");
        assertNotNull(policies.withName("berth-sessions").get());
    }

    @Test
    void aPooledPodIsLabelledWithItsSessionWhenClaimed() throws Exception {
        gateway = gatewayOn().route("pool: {size: 1}").start(vertx);
        awaitTrue(
                () -> get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                30_000,
                "the pool's pod is ready");
        Pod pooled = kubelet.client
                .pods()
                .inNamespace(TestKubelet.NAMESPACE)
                .withLabel("berth.pool", "true")
                .list()
                .getItems()
                .get(0);
        assertTrue(pooled.getMetadata().getName().startsWith("berth-" + gateway.route + "-pool-"));
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            awaitTrue(() -> backends.running(gateway.route, key) == 1, 10_000, "its pod is labelled with its session");
            Pod mine = kubelet.pod(gateway.route, key);
            assertEquals(pooled.getMetadata().getUid(), mine.getMetadata().getUid(), "the pool's pod, claimed");
            assertFalse(mine.getMetadata().getLabels().containsKey("berth.pool"));
            String metrics = get("/metrics");
            assertTrue(
                    metrics.contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + gateway.route + "\"} 1.0"),
                    metrics);
        }
    }

    @Test
    @Override
    void aClientThatAsksForProgressHearsItsBackendStartBeforeItsFirstFrame() throws Exception {
        kubelet.pullTakes(java.time.Duration.ofSeconds(1)) // the first pod of its image on the node pulls it
                .startTakes(java.time.Duration.ofMillis(500));
        gateway = gatewayOn().start(vertx);
        assertEquals(
                List.of("starting", "scheduled", "pulling", "running", "ready"),
                phasesBeforeTheFirstFrame(),
                "the scheduler's and the kubelet's events, then the pod running");
        assertEquals(
                List.of("starting", "scheduled", "running", "ready"),
                phasesBeforeTheFirstFrame(),
                "the second pod finds its image on the node: no pull");
    }

    @Test
    void eventsDeliveredAfterTheirPodRunsAreNotToldOutOfOrder() throws Exception {
        // Events and pods come on two watches: a lagging one brings Scheduled and Pulling after the
        // pod runs, while its app is still starting, before the session is ready.
        kubelet.eventsAfterRunning(java.time.Duration.ofMillis(300))
                .appListensAfter(java.time.Duration.ofMillis(1_500));
        gateway = gatewayOn().start(vertx);
        assertEquals(List.of("starting", "running", "ready"), phasesBeforeTheFirstFrame());
        assertEquals(1, kubelet.placedPods(), "its late events were written while it started");
    }

    @Test
    void aPodThatRunsButIsNeverReadyIsNotDialledAndTimesOut() throws Exception {
        kubelet.neverReady();
        gateway = gatewayOn().startTimeout("2s").start(vertx);
        long begun = System.nanoTime();
        UpgradeRejectedException rejected =
                assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, gateway.port));
        assertEquals(502, rejected.getStatus());
        assertTrue(
                rejected.getBody().toString().startsWith("start_timeout: "),
                rejected.getBody().toString());
        assertTrue(
                System.nanoTime() - begun >= 1_900_000_000L,
                "it waited for the Ready condition, though its handler served from the start");
        awaitNoPodLeft("the pod that never got ready deleted");
    }

    @Test
    void anImageTheNodeCannotPullFailsTheStartAtOnceAndSaysWhich() throws Exception {
        kubelet.unpullableImages();
        gateway = gatewayOn().start(vertx); // start timeout 30 s
        long begun = System.nanoTime();
        UpgradeRejectedException rejected =
                assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, gateway.port));
        long tookMs = (System.nanoTime() - begun) / 1_000_000;
        assertEquals(502, rejected.getStatus());
        String body = rejected.getBody().toString();
        assertTrue(body.startsWith("start_failed: "), body);
        assertFalse(body.contains(TestGateway.IMAGE), "the image is the operator's business: " + body);
        assertTrue(tookMs < 10_000, "failed on the kubelet's back-off, not the start timeout: " + tookMs + " ms");
        assertTrue(
                TestLog.soFar().stream()
                        .anyMatch(line ->
                                line.contains("image " + TestGateway.IMAGE + " cannot be pulled (ImagePullBackOff")
                                        && line.contains("docker.image")),
                "the log names the image, the kubelet's reason and the setting");
        awaitNoPodLeft("the pod deleted");
    }

    /** Waits until the API server holds no pod at all, {@code what} saying why there should be none. */
    private void awaitNoPodLeft(String what) throws InterruptedException {
        awaitTrue(
                () -> kubelet.client
                        .pods()
                        .inNamespace(TestKubelet.NAMESPACE)
                        .list()
                        .getItems()
                        .isEmpty(),
                10_000,
                what);
    }

    @Test
    void twoGatewaysTakingOneSessionAtOnceCollideOnTheResourceVersionAndTheNewestHoldsIt() throws Exception {
        // A third gateway's take-over lands between the second's read and its update.
        aSessionMovesToTheSecondGateway("three");
        assertEquals(List.of(409), kubelet.racedAnswers(), "the second's update was refused: a stale resourceVersion");
    }

    @Test
    void anApiServerThatGoesAwayShowsInHealthAndSessionsStartAgainOnceItIsBack() throws Exception {
        gateway = gatewayOn().start(vertx);
        assertTrue(get("/health").contains("\"engine\":{\"state\":\"up\""), get("/health"));
        kubelet.apiServerDown();
        awaitTrue(
                () -> get("/health").contains("\"engine\":{\"state\":\"down\""),
                30_000,
                "the pods' watch broke: the engine is down in /health");
        assertTrue(get("/health").contains("is not running"), get("/health"));
        kubelet.apiServerUp();
        awaitTrue(() -> get("/health").contains("\"engine\":{\"state\":\"up\""), 60_000, "the watch is back: up again");
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            assertEquals(1, backends.running(gateway.route, key), "a new session starts on its own pod");
        }
        // The events have a watch of their own, which comes back on its own schedule.
        kubelet.startTakes(java.time.Duration.ofMillis(500));
        List<String> phases = phasesBeforeTheFirstFrame();
        for (long until = System.currentTimeMillis() + 30_000;
                !phases.contains("scheduled") && System.currentTimeMillis() < until; ) {
            Thread.sleep(500);
            phases = phasesBeforeTheFirstFrame();
        }
        assertEquals(
                List.of("starting", "scheduled", "running", "ready"),
                phases,
                "the watch on events is back too: a new session hears its pod scheduled");
    }

    @Test
    void aPodThatEndsBeforeItRunsIsAnswered502AndRemoved() throws Exception {
        gateway = gatewayOn().start(vertx);
        kubelet.failingStarts();
        Throwable refusal = FrameClient.refusal(vertx, gateway.port);
        UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, refusal);
        assertEquals(502, rejected.getStatus());
        String body = rejected.getBody().toString();
        assertTrue(body.startsWith("exited_early: "), body);
        assertFalse(body.contains(gateway.route) || body.contains("pod"), "no backend names: " + body);
        awaitNoPodLeft("the failed pod deleted");
        String metrics = get("/metrics");
        assertTrue(
                metrics.contains("berth_launches_total{outcome=\"exited_early\",route=\"" + gateway.route + "\"} 1.0"),
                metrics);
    }

    @Test
    void aPodKilledForMemoryEndsItsSessionWith1011AndSaysSo() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            String pod = kubelet.pod(gateway.route, key).getMetadata().getName();
            kubelet.ended(pod, 137, "OOMKilled");
            assertEquals(1011, client.awaitClose());
            awaitTrue(() -> kubelet.pod(gateway.route, key) == null, 10_000, "the ended pod deleted");
        }
        assertTrue(get("/metrics")
                .contains("berth_sessions_ended_total{reason=\"backend_exited\",route=\"" + gateway.route + "\"} 1.0"));
        assertTrue(
                TestLog.soFar().stream()
                        .anyMatch(line -> line.contains("container exited with status 137 (out of memory)")),
                "the session's end names the out-of-memory kill");
    }

    @Test
    void aPodDeletedByAnyoneEndsItsSession() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            kubelet.client.resource(kubelet.pod(gateway.route, key)).delete();
            int code = client.awaitClose();
            assertTrue(code == 1011 || code == 1001, "the pod's end (1011) or its handler's SIGTERM (1001): " + code);
            awaitTrue(() -> get("/health").contains("\"sessions\":0"), 10_000, "the session ended");
        }
    }

    @Test
    void aSecondGatewayTakesASessionOverByTheHolderLabelAndTheFirstLetsGo() throws Exception {
        aSessionMovesToTheSecondGateway(null);
        assertEquals(List.of(), kubelet.racedAnswers(), "no race");
    }

    /**
     * A client of gateway one comes back through gateway two, which takes its pod over by the holder
     * label (beaten once by gateway {@code racer}'s take-over, unless null): one lets it go with
     * 4001, and two pipes the same pod, with its state.
     */
    private void aSessionMovesToTheSecondGateway(String racer) throws Exception {
        gateway = gatewayOn().sessions("gatewayId: one").start(vertx);
        TestGateway second =
                gatewayOn().sameAs(gateway).port(0).sessions("gatewayId: two").start(vertx);
        try (FrameClient onFirst = connect(null)) {
            String key = onFirst.hello().getString("session");
            String uid = kubelet.pod(gateway.route, key).getMetadata().getUid();
            assertEquals(
                    "one",
                    kubelet.pod(gateway.route, key).getMetadata().getLabels().get("berth.gateway"));
            onFirst.socket().writeTextMessage("before the move");
            onFirst.nextDataFrame();
            if (racer != null) {
                kubelet.raceTheNextTakeOver(racer);
            }
            try (FrameClient onSecond = FrameClient.connect(vertx, second.port, onFirst.sessionToken())) {
                assertEquals(4001, onFirst.awaitClose(), "the same close code as a handover within one gateway");
                assertEquals(Failure.MOVED_AWAY.publicReason(), onFirst.closeReason());
                JsonObject state = onSecond.state();
                assertEquals(key, state.getString("session"), "its own pod");
                assertEquals(1, state.getLong("framesReceived"), "with its state");
                Pod pod = kubelet.pod(gateway.route, key);
                assertEquals("two", pod.getMetadata().getLabels().get("berth.gateway"));
                assertEquals(uid, pod.getMetadata().getUid(), "the same pod");
                assertEquals(1, backends.running(gateway.route), "one pod, held by the second gateway");
            }
        } finally {
            second.close();
        }
    }

    @Test
    void anEndedPodOfAGoneGatewayIsRemovedByTheOneLeft() throws Exception {
        gateway = gatewayOn().sessions("gatewayId: one").onShutdown("keep").start(vertx);
        TestGateway second =
                gatewayOn().sameAs(gateway).port(0).sessions("gatewayId: two").start(vertx);
        try {
            String key;
            try (FrameClient client = connect(null)) {
                key = client.hello().getString("session");
                gateway.close(); // keeps its pod; its client never comes back
            }
            String pod = kubelet.pod(gateway.route, key).getMetadata().getName();
            assertEquals(
                    "one",
                    kubelet.pod(gateway.route, key).getMetadata().getLabels().get("berth.gateway"));
            kubelet.ended(pod, 0, "Completed"); // the handler's own idle backstop ends it
            awaitTrue(() -> kubelet.pod(gateway.route, key) == null, 10_000, "the gateway left deleted the ended pod");
        } finally {
            second.close();
        }
    }

    @Test
    void aRouteLimitHoldsAcrossTwoGatewaysOnTheNamespace() throws Exception {
        routeLimitHoldsAcrossTwoGateways("pod");
    }

    @Test
    void aRestartedGatewayAdoptsItsPodsByTheirLabelsWithTheirState() throws Exception {
        gateway = gatewayOn().onShutdown("keep").start(vertx);
        String token;
        String key;
        String uid;
        try (FrameClient client = connect(null)) {
            token = client.sessionToken();
            key = client.hello().getString("session");
            uid = kubelet.pod(gateway.route, key).getMetadata().getUid();
            client.socket().writeTextMessage("before the restart");
            client.nextDataFrame();
            gateway.close();
            assertEquals(1012, client.awaitClose(), "told to reconnect");
        }
        assertNotNull(kubelet.pod(gateway.route, key), "onShutdown: keep keeps the pod");
        gateway = gatewayOn().sameAs(gateway).onShutdown("keep").start(vertx);
        assertTrue(get("/health").contains("\"sessions\":1"), "adopted before it listens: " + get("/health"));
        try (FrameClient back = connect(token)) {
            JsonObject hello = back.hello();
            assertEquals(key, hello.getString("session"), "its own pod");
            assertEquals(1, back.state().getLong("framesReceived"), "with its state");
            assertEquals(uid, kubelet.pod(gateway.route, key).getMetadata().getUid(), "the same pod, not a new one");
        }
        awaitTrue(() -> get("/health").contains("\"sessions\":0"), 20_000, "the client ended its session with 1000");
        gateway.close();
        assertEquals(0, backends.running(gateway.route), "its pod removed with the session");
    }
}
