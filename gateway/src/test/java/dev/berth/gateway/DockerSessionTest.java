package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The session behaviour with each session in its own container on a real Docker engine. */
@Tag("engine")
@Tag("slow")
@CpuCost(seconds = 40)
class DockerSessionTest extends LauncherContractTest {

    /** Holds the JVM before main until /tmp/berth-never-ready is removed, which nothing does. */
    private static final String JVM_PAUSED_BEFORE_MAIN =
            "-XX:+UnlockDiagnosticVMOptions -XX:+PauseAtStartup -XX:PauseAtStartupFile=/tmp/berth-never-ready";

    DockerSessionTest() {
        super(LauncherKind.DOCKER);
    }

    private DockerTestBackends docker() {
        return (DockerTestBackends) backends;
    }

    private InspectContainerResponse containerOf(String key) {
        Container container = docker().containers(gateway.route, key, false).get(0);
        return docker().docker.inspectContainerCmd(container.getId()).exec();
    }

    @Test
    void containerIsLabelledLimitedLockedDownAndNeverPublished() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            InspectContainerResponse container = containerOf(key);
            assertEquals(
                    client.hello().getString("hostname"),
                    container.getConfig().getHostName(),
                    "the session's frames come from the container labelled with it");
            Map<String, String> labels = container.getConfig().getLabels();
            assertEquals("true", labels.get("berth.managed"));
            assertEquals(key, labels.get("berth.session"));
            assertEquals(gateway.route, labels.get("berth.route"));
            assertEquals("test", labels.get("berth.version"));
            assertEquals(
                    "berth-" + gateway.route + "-" + key, container.getName().substring(1));

            HostConfig host = container.getHostConfig();
            assertEquals(128L << 20, host.getMemory());
            assertEquals(500_000_000L, host.getNanoCPUs());
            assertEquals(128L, host.getPidsLimit());
            assertTrue(Arrays.asList(host.getCapDrop()).contains(Capability.ALL));
            assertTrue(host.getSecurityOpts().contains("no-new-privileges"), String.valueOf(host.getSecurityOpts()));
            assertTrue(
                    host.getPortBindings() == null
                            || host.getPortBindings().getBindings().isEmpty(),
                    "the handler port is never published");
            assertEquals("berth-sessions", host.getNetworkMode());

            var network = docker().docker
                    .inspectNetworkCmd()
                    .withNetworkId("berth-sessions")
                    .exec();
            assertEquals(
                    "false",
                    network.getOptions().get("com.docker.network.bridge.enable_icc"),
                    "containers on the sessions network cannot reach each other");
            assertTrue(network.getInternal(), "no route off the machine (docker.egress: none)");
            assertEquals("65534:65534", container.getConfig().getUser(), "not root");
            assertTrue(host.getReadonlyRootfs(), "read-only root filesystem");
            assertTrue(host.getTmpFs().get("/tmp").contains("size=16777216"), String.valueOf(host.getTmpFs()));
            assertTrue(host.getBinds() == null || host.getBinds().length == 0, "nothing of the host is mounted");
            assertTrue(container.getMounts() == null || container.getMounts().isEmpty(), "no volume, no engine socket");
            assertFalse(host.getPrivileged());

            String address = container
                    .getNetworkSettings()
                    .getNetworks()
                    .get("berth-sessions")
                    .getIpAddress();
            String handshake =
                    client.socket().headers().toString() + client.hello().encode();
            assertTrue(!handshake.contains(address), "the client never sees the backend address " + address);
        }
    }

    @Test
    void theEndOfAnEndedSessionsContainerLogIsKeptWhenAsked(@org.junit.jupiter.api.io.TempDir Path logs)
            throws Exception {
        gateway = gatewayOn()
                .log("sessionLogs: {dir: \"" + logs + "\", maxSize: 1k}")
                .start(vertx);
        String key;
        try (FrameClient client = connect(null)) {
            key = client.hello().getString("session");
        } // closed with 1000: the session ends, its container is stopped and removed
        // Kept between the container's stop and its removal: wait for the file, not for the stop.
        awaitTrue(() -> keptLogOf(logs, key) != null, 20_000, "the log kept in " + logs);
        awaitTrue(() -> backends.running(gateway.route, key) == 0, 20_000, "the container removed");
        Path kept = keptLogOf(logs, key);
        String log = Files.readString(kept);
        assertTrue(log.contains("connect #1 from"), "the handler's own output: " + log);
        assertTrue(Files.size(kept) <= 1024, "the end of it, at most log.sessionLogs.maxSize: " + Files.size(kept));
    }

    /** The log kept for session {@code key} in {@code dir}, once it is whole (renamed into place), else null. */
    private static Path keptLogOf(Path dir, String key) {
        try (var files = Files.list(dir)) {
            return files.filter(file -> file.getFileName().toString().contains(key))
                    .filter(file -> file.getFileName().toString().endsWith(".log"))
                    .findFirst()
                    .orElse(null);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    @Test
    void missingImageStopsTheGatewayAtStartWithTheBuildCommand() {
        Exception error = assertThrows(
                Exception.class,
                () -> gatewayOn().image("berth/handler:no-such-version").start(vertx));
        assertTrue(error.getMessage().contains("berth/handler:no-such-version"), error.getMessage());
        assertTrue(error.getMessage().contains("routes[0].docker.image"), error.getMessage());
        assertTrue(error.getMessage().contains("build-image.sh"), error.getMessage());
    }

    @Test
    void backendThatNeverGetsReadyIsAnswered502AndRemoved() throws Exception {
        // The handler's JVM pauses before main (a HotSpot diagnostic flag, waiting for a file nobody
        // removes): the container runs and never listens, however fast or slow this machine is.
        gateway = gatewayOn()
                .readyTimeout("1s")
                .env("JAVA_TOOL_OPTIONS", JVM_PAUSED_BEFORE_MAIN)
                .start(vertx);
        Throwable refusal = FrameClient.refusal(vertx, gateway.port);
        UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, refusal);
        assertEquals(502, rejected.getStatus());
        String body = rejected.getBody().toString();
        assertTrue(body.startsWith("ready_timeout: the session's backend took too long to get ready"), body);
        assertFalse(
                body.contains(gateway.route) || body.contains("container") || body.contains("routes["),
                "no backend names or settings in what the client sees: " + body);
        awaitTrue(() -> backends.running(gateway.route) == 0, 20_000, "the unready container is removed");
        String metrics = get("/metrics");
        assertTrue(
                metrics.contains("berth_launches_total{outcome=\"ready_timeout\",route=\"" + gateway.route + "\"} 1.0"),
                metrics);
    }

    @Test
    void theShippedHandlerEchoesAFourMebibyteMessageIn64ByteFragmentsThroughTheGateway() throws Exception {
        gateway = gatewayOn().env("BERTH_FEED_PER_SECOND", "0").start(vertx);
        for (int opcode : new int[] {RawWebSocket.TEXT, RawWebSocket.BINARY}) { // Autobahn 9.3.1 and 9.4.1
            try (RawWebSocket client = RawWebSocket.open(gateway.port, java.util.Map.of())) {
                assertEquals(101, client.status);
                assertTrue(client.nextIgnoringPings().text().contains("\"hello\""));
                FragmentedEcho.assertEchoedWhole(client, opcode, 65_536, 64, 60);
            }
        }
    }

    @Test
    void autoPicksDockerWhenTheEngineAnswers() throws Exception {
        gateway = TestGateway.on(LauncherKind.AUTO).start(vertx);
        assertTrue(get("/health").contains("\"launcher\":\"docker\""), get("/health"));
    }

    @Test
    void aKilledAndAnOomKilledContainerEndOnlyTheirOwnSessions() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient killed = connect(null);
                FrameClient leaking = connect(null);
                FrameClient bystander = connect(null)) {
            String killedKey = killed.hello().getString("session");
            String leakingKey = leaking.hello().getString("session");
            String bystanderKey = bystander.hello().getString("session");

            backends.kill(gateway.route, killedKey);
            leaking.sendJson(new JsonObject().put("cmd", "leak").put("mib", 512)); // the limit is 128 MiB
            assertEquals(1011, killed.awaitClose());
            assertEquals(1011, leaking.awaitClose());
            assertEquals("the session's backend stopped", leaking.closeReason(), "a fixed public reason, no detail");

            bystander.socket().writeTextMessage("still here");
            assertEquals("still here", bystander.nextDataFrame().textData());
            assertEquals(
                    1, bystander.state().getLong("connections"), "the bystander's backend connection was never cut");
            assertEquals(1, backends.running(gateway.route, bystanderKey));
            awaitTrue(
                    () -> backends.running(gateway.route, killedKey) + backends.running(gateway.route, leakingKey) == 0,
                    20_000,
                    "both dead containers removed");
            assertTrue(
                    get("/metrics")
                            .contains("berth_sessions_ended_total{reason=\"backend_exited\",route=\"" + gateway.route
                                    + "\"} 2.0"),
                    get("/metrics"));
            LeakAudit.assertBalanced(gateway, docker(), 30_000);
        }
    }

    @Test
    void restartedGatewayReadoptsRunningSessionsAndClientsGetTheirStateBack() throws Exception {
        gateway = gatewayOn().onShutdown("keep").start(vertx);
        Map<String, String> keyByToken = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) {
            try (FrameClient client = connect(null)) {
                keyByToken.put(client.sessionToken(), client.hello().getString("session"));
                client.socket().writeTextMessage("before the restart");
                client.nextDataFrame();
                gateway.close(); // the first time round: the next clients find the sessions kept
                assertEquals(1012, client.awaitClose(), "told to reconnect");
                gateway = gatewayOn().sameAs(gateway).onShutdown("keep").start(vertx);
            }
        }
        assertEquals(3, backends.running(gateway.route), "every container kept through the restarts");
        assertTrue(get("/health").contains("\"sessions\":3"), get("/health"));
        LeakAudit.assertBalanced(gateway, docker(), 30_000);
        for (Map.Entry<String, String> session : keyByToken.entrySet()) {
            try (FrameClient back = connect(session.getKey())) {
                JsonObject hello = back.hello();
                assertEquals(session.getValue(), hello.getString("session"), "its own container");
                assertEquals(1, back.state().getLong("framesReceived"), "with its state");
            }
        }
        // The clients' 1000 reaches each session on its own loop: let it, before the gateway stops.
        awaitTrue(
                () -> get("/health").contains("\"sessions\":0"), 20_000, "the clients ended their sessions with 1000");
        gateway.close();
        assertEquals(
                0, backends.running(gateway.route), "onShutdown keep, but the clients ended their sessions with 1000");
    }

    @Test
    void reaperAdoptsAContainerNoSessionHoldsAndRemovesItAfterTheGracePeriod() throws Exception {
        gateway = gatewayOn().grace("2s").start(vertx);
        // As a crash between launch and cleanup would leave it: running, labelled, held by no session.
        String key = "0123456789abcdef01234567";
        String id = docker().docker
                .createContainerCmd(TestGateway.IMAGE)
                .withName("berth-" + gateway.route + "-" + key)
                .withLabels(Map.of(
                        "berth.managed",
                        "true",
                        "berth.session",
                        key,
                        "berth.route",
                        gateway.route,
                        "berth.version",
                        "test"))
                .withEnv("BERTH_SESSION=" + key, "BERTH_IDLE_GRACE_MS=300000")
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("berth-sessions"))
                .exec()
                .getId();
        docker().docker.startContainerCmd(id).exec();
        awaitTrue(() -> get("/health").contains("\"sessions\":1"), 10_000, "the reaper adopted it");
        LeakAudit.assertBalanced(gateway, docker(), 30_000);
        awaitTrue(
                () -> backends.running(gateway.route) == 0, 20_000, "nobody came back: removed after the grace period");
        assertTrue(
                get("/metrics")
                        .contains("berth_sessions_ended_total{reason=\"grace_expired\",route=\"" + gateway.route
                                + "\"} 1.0"),
                get("/metrics"));
    }

    @Test
    void fromInsideItsContainerASessionReachesNeitherAnotherSessionNorTheGatewayNorTheEngine() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient inside = connect(null);
                FrameClient other = connect(null)) {
            inside.hello();
            String otherAddress = backends.address(gateway.route, other.hello().getString("session"));
            String bridgeGateway = docker().docker
                    .inspectNetworkCmd()
                    .withNetworkId("berth-sessions")
                    .exec()
                    .getIpam()
                    .getConfig()
                    .get(0)
                    .getGateway();
            // Each a listener of this test's own, so a sandbox that reaches one fails the test for real.
            try (HostListeners host = new HostListeners()
                    .on(
                            bridgeGateway,
                            "the host on the sessions network (the gateway, the engine and any host service listen so)")
                    .on("127.0.0.1", "the host's loopback, were the session in the host's network namespace")) {
                inside.assertSandboxReachesNone(host.targets(new String[] {
                    otherAddress.substring(0, otherAddress.indexOf(':')), "8080", "another session's container"
                }));
            }
        }
    }
}
