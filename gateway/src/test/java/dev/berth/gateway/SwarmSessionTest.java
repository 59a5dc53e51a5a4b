package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Service;
import dev.berth.gateway.config.LauncherKind;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.ForwardingLauncher;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.launcher.LauncherFactory;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The session behaviour with each session a one-task service on a one-node swarm, which these
 * tests start (advertising 127.0.0.1) and leave again. The host has no route to overlay networks,
 * so every address the gateway dials is checked: loopback, or on the sessions bridge the launcher
 * made on this node.
 */
@ExtendWith(OneNodeSwarm.class)
@Tag("engine")
@Tag("swarm")
@Tag("slow")
@CpuCost(seconds = 27)
class SwarmSessionTest extends LauncherContractTest {

    SwarmSessionTest() {
        super(LauncherKind.SWARM);
    }

    private SwarmTestBackends swarm() {
        return (SwarmTestBackends) backends;
    }

    /** Every address the launcher hands the gateway to dial, however it found the backend. */
    private static final class DialRecorder extends ForwardingLauncher {
        final List<SocketAddress> dialled = new CopyOnWriteArrayList<>();

        DialRecorder(Launcher launcher) {
            super(launcher);
        }

        private Backend record(Backend backend) {
            if (backend != null) {
                dialled.add(backend.address());
            }
            return backend;
        }

        @Override
        public Future<Backend> launch(LaunchRequest request) {
            return launcher.launch(request).map(this::record);
        }

        @Override
        public Future<List<Backend>> discover() {
            return launcher.discover().map(found -> {
                found.forEach(this::record);
                return found;
            });
        }

        @Override
        public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
            return launcher.takeOver(route, sessionKey).map(this::record);
        }
    }

    private TestGateway.Builder recordedGateway(List<DialRecorder> recorders) {
        return gatewayOn()
                .launchers((v, config, watch) -> LauncherFactory.create(v, config, watch)
                        .map(launcher -> {
                            DialRecorder recorder = new DialRecorder(launcher);
                            recorders.add(recorder);
                            return recorder;
                        }));
    }

    private JsonObject serviceSpec(String key) throws Exception {
        Service service = swarm().services(gateway.route, key).get(0);
        return OneNodeSwarm.inspect("service", service.getId()).getJsonObject(0).getJsonObject("Spec");
    }

    /** Whether {@code address} is in the subnet of the sessions network on this node. */
    /**
     * The sessions bridge's subnet on this node, as a running task's container on it sees it: the
     * swarm-scoped network's own inspect may show no IPAM config at all (the subnet is this node's,
     * given when its first task joins), which is how this check once failed on a machine's first swarm.
     */
    private String sessionsSubnet() throws Exception {
        String container = OneNodeSwarm.docker("ps", "-q", "--filter", "label=berth.route=" + gateway.route)
                .lines()
                .findFirst()
                .orElseThrow(() -> new AssertionError("no running task container of " + gateway.route));
        JsonObject onBridge = OneNodeSwarm.inspect("container", container)
                .getJsonObject(0)
                .getJsonObject("NetworkSettings")
                .getJsonObject("Networks")
                .getJsonObject("berth-swarm");
        return onBridge.getString("IPAddress") + "/" + onBridge.getInteger("IPPrefixLen");
    }

    private static boolean inSubnet(String address, String subnet) throws Exception {
        String[] parts = subnet.split("/");
        int bits = Integer.parseInt(parts[1]);
        long mask = bits == 0 ? 0 : -1L << (32 - bits) & 0xffffffffL;
        return (ipv4(address) & mask) == (ipv4(parts[0]) & mask);
    }

    private static long ipv4(String address) throws Exception {
        long value = 0;
        for (byte part : InetAddress.getByName(address).getAddress()) {
            value = value << 8 | (part & 0xff);
        }
        return value;
    }

    @Test
    void eachSessionIsAOneTaskServiceLabelledLimitedAndLockedDownOnAnIsolatedBridge() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            JsonObject spec = serviceSpec(key);
            JsonObject labels = spec.getJsonObject("Labels");
            assertEquals(expectedLabels(key), labels.getMap());
            assertEquals("berth-" + gateway.route + "-" + key, spec.getString("Name"));
            assertEquals(
                    1, spec.getJsonObject("Mode").getJsonObject("Replicated").getInteger("Replicas"));

            JsonObject task = spec.getJsonObject("TaskTemplate");
            JsonObject container = task.getJsonObject("ContainerSpec");
            JsonObject limits = task.getJsonObject("Resources").getJsonObject("Limits");
            assertEquals(128L << 20, limits.getLong("MemoryBytes"));
            assertEquals(500_000_000L, limits.getLong("NanoCPUs"));
            assertEquals(128L, limits.getLong("Pids"));
            assertEquals(new JsonArray().add("ALL"), container.getJsonArray("CapabilityDrop"));
            assertEquals("65534:65534", container.getString("User"), "not root");
            assertTrue(container.getBoolean("ReadOnly"), "read-only root filesystem");
            assertEquals(
                    new JsonObject()
                            .put("Type", "tmpfs")
                            .put("Target", "/tmp")
                            .put(
                                    "TmpfsOptions",
                                    new JsonObject().put("SizeBytes", 16L << 20).put("Mode", 01777)),
                    container.getJsonArray("Mounts").getJsonObject(0),
                    "only a tmpfs is mounted: no volume, no engine socket");
            assertEquals(
                    "none", task.getJsonObject("RestartPolicy").getString("Condition"), "a session's end is final");
            assertFalse(spec.containsKey("EndpointSpec"), "nothing published with dial: task");
            String node =
                    OneNodeSwarm.docker("info", "--format", "{{.Swarm.NodeID}}").trim();
            assertEquals(
                    new JsonArray().add("node.id==" + node),
                    task.getJsonObject("Placement").getJsonArray("Constraints"),
                    "dial: task places it on the gateway's node");

            JsonObject network = OneNodeSwarm.inspect("network", "berth-swarm").getJsonObject(0);
            assertEquals("swarm", network.getString("Scope"));
            assertTrue(network.getBoolean("Internal"), "no route off the machine (docker.egress: none)");
            JsonObject options = OneNodeSwarm.inspect("network", "berth-swarm-config")
                    .getJsonObject(0)
                    .getJsonObject("Options");
            assertEquals(
                    "false",
                    options.getString("com.docker.network.bridge.enable_icc"),
                    "tasks cannot reach each other");
            String handshake =
                    client.socket().headers().toString() + client.hello().encode();
            String address = backends.address(gateway.route, key);
            assertFalse(
                    handshake.contains(address.substring(0, address.indexOf(':'))), "the client never sees " + address);
        }
        // How fast (through the local engine, not after Swarm's own delay) is measured by scripts/bench-start.sh.
        awaitTrue(
                () -> backends.running(gateway.route) == 0 && swarm().containers(gateway.route) == 0,
                20_000,
                "the service and its task's container are removed once its session ends");
    }

    @Test
    void fromInsideItsTaskASessionReachesNeitherAnotherSessionNorTheGateway() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient inside = connect(null);
                FrameClient other = connect(null)) {
            inside.hello();
            String otherAddress = backends.address(gateway.route, other.hello().getString("session"));
            String bridgeGateway = OneNodeSwarm.inspect("network", "berth-swarm")
                    .getJsonObject(0)
                    .getJsonObject("IPAM")
                    .getJsonArray("Config")
                    .getJsonObject(0)
                    .getString("Gateway");
            try (HostListeners host = new HostListeners()
                    .on(bridgeGateway, "the host on the sessions network")
                    .on("127.0.0.1", "the host's loopback, were the task in the host's network namespace")) {
                inside.assertSandboxReachesNone(host.targets(new String[] {
                    otherAddress.substring(0, otherAddress.indexOf(':')), "8080", "another session's task"
                }));
            }
        }
    }

    @Test
    void withDialTaskEveryAddressTheGatewayDialsIsOnTheSessionsBridgeOfThisNode() throws Exception {
        List<DialRecorder> recorders = new CopyOnWriteArrayList<>();
        gateway = recordedGateway(recorders)
                .onShutdown("keep")
                .route("pool: {size: 1}")
                .start(vertx);
        String token;
        String key;
        try (FrameClient client = connect(null)) {
            token = client.sessionToken();
            key = client.hello().getString("session");
            gateway.close();
            assertEquals(1012, client.awaitClose(), "told to reconnect");
        }
        gateway = recordedGateway(recorders)
                .sameAs(gateway)
                .onShutdown("end")
                .route("pool: {size: 1}")
                .start(vertx);
        String subnet;
        try (FrameClient back = connect(token)) {
            assertEquals(key, back.hello().getString("session"), "its own task, adopted by the new gateway");
            subnet = sessionsSubnet();
        }
        List<SocketAddress> dialled = recorders.stream()
                .flatMap(recorder -> recorder.dialled.stream())
                .toList();
        assertTrue(dialled.size() >= 3, "a pool entry, a session, and what the second gateway adopted: " + dialled);
        for (SocketAddress address : dialled) {
            assertTrue(inSubnet(address.host(), subnet), address + " is not on the sessions bridge (" + subnet + ")");
        }
    }

    @Test
    void withDialPublishedTasksAreReachedAtTheirNodesPublishedPortOnLoopback() throws Exception {
        List<DialRecorder> recorders = new CopyOnWriteArrayList<>();
        gateway = recordedGateway(recorders)
                .swarm("dial: published")
                .egress("open")
                .start(vertx);
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            client.socket().writeTextMessage("through a published port");
            assertEquals("through a published port", client.nextDataFrame().textData());
            JsonObject spec = serviceSpec(key);
            JsonObject port =
                    spec.getJsonObject("EndpointSpec").getJsonArray("Ports").getJsonObject(0);
            assertEquals("host", port.getString("PublishMode"), "on the task's node, not through the ingress overlay");
            assertFalse(
                    spec.getJsonObject("TaskTemplate")
                            .getJsonObject("Placement", new JsonObject())
                            .containsKey("Constraints"),
                    "placed anywhere by the scheduler");
        }
        List<SocketAddress> dialled = recorders.get(0).dialled;
        assertEquals(1, dialled.size(), String.valueOf(dialled));
        assertEquals("127.0.0.1", dialled.get(0).host(), "the node advertises 127.0.0.1: never an overlay address");
    }
}
