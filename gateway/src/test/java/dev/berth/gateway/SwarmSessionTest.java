package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Service;
import dev.berth.gateway.config.LauncherKind;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.Vertx;
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
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Tag;

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
class SwarmSessionTest extends LauncherContractTest {

  @Override
  TestBackends backends(Vertx vertx) {
    return TestBackends.of(LauncherKind.SWARM);
  }

  @Override
  TestGateway.Builder gatewayOn() {
    return TestGateway.on(LauncherKind.SWARM);
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
    return gatewayOn().launchers((v, config, watch) -> LauncherFactory.create(v, config, watch).map(launcher -> {
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
    String container = OneNodeSwarm.docker("ps", "-q", "--filter", "label=berth.route=" + gateway.route).lines()
        .findFirst().orElseThrow(() -> new AssertionError("no running task container of " + gateway.route));
    JsonObject onBridge = OneNodeSwarm.inspect("container", container).getJsonObject(0).getJsonObject("NetworkSettings")
        .getJsonObject("Networks").getJsonObject("berth-swarm");
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
      assertEquals(Map.of("berth.managed", "true", "berth.session", key, "berth.route", gateway.route,
          "berth.version", "test", "berth.gateway", "default"), labels.getMap());
      assertEquals("berth-" + gateway.route + "-" + key, spec.getString("Name"));
      assertEquals(1, spec.getJsonObject("Mode").getJsonObject("Replicated").getInteger("Replicas"));

      JsonObject task = spec.getJsonObject("TaskTemplate");
      JsonObject container = task.getJsonObject("ContainerSpec");
      JsonObject limits = task.getJsonObject("Resources").getJsonObject("Limits");
      assertEquals(128L << 20, limits.getLong("MemoryBytes"));
      assertEquals(500_000_000L, limits.getLong("NanoCPUs"));
      assertEquals(128L, limits.getLong("Pids"));
      assertEquals(new JsonArray().add("ALL"), container.getJsonArray("CapabilityDrop"));
      assertEquals("65534:65534", container.getString("User"), "not root");
      assertTrue(container.getBoolean("ReadOnly"), "read-only root filesystem");
      assertEquals(new JsonObject().put("Type", "tmpfs").put("Target", "/tmp")
          .put("TmpfsOptions", new JsonObject().put("SizeBytes", 16L << 20).put("Mode", 01777)),
          container.getJsonArray("Mounts").getJsonObject(0), "only a tmpfs is mounted: no volume, no engine socket");
      assertEquals("none", task.getJsonObject("RestartPolicy").getString("Condition"), "a session's end is final");
      assertFalse(spec.containsKey("EndpointSpec"), "nothing published with dial: task");
      String node = OneNodeSwarm.docker("info", "--format", "{{.Swarm.NodeID}}").trim();
      assertEquals(new JsonArray().add("node.id==" + node), task.getJsonObject("Placement").getJsonArray("Constraints"),
          "dial: task places it on the gateway's node");

      JsonObject network = OneNodeSwarm.inspect("network", "berth-swarm").getJsonObject(0);
      assertEquals("swarm", network.getString("Scope"));
      assertTrue(network.getBoolean("Internal"), "no route off the machine (docker.egress: none)");
      JsonObject options = OneNodeSwarm.inspect("network", "berth-swarm-config").getJsonObject(0).getJsonObject("Options");
      assertEquals("false", options.getString("com.docker.network.bridge.enable_icc"), "tasks cannot reach each other");
      String handshake = client.socket().headers().toString() + client.hello().encode();
      String address = backends.address(gateway.route, key);
      assertFalse(handshake.contains(address.substring(0, address.indexOf(':'))), "the client never sees " + address);
    }
    // How fast (through the local engine, not after Swarm's own delay) is measured by scripts/bench-start.sh.
    awaitTrue(() -> backends.running(gateway.route) == 0 && swarm().containers(gateway.route) == 0, 20_000,
        "the service and its task's container are removed once its session ends");
  }

  @Test
  void fromInsideItsTaskASessionReachesNeitherAnotherSessionNorTheGateway() throws Exception {
    gateway = gatewayOn().start(vertx);
    try (FrameClient inside = connect(null); FrameClient other = connect(null)) {
      inside.hello();
      String otherAddress = backends.address(gateway.route, other.hello().getString("session"));
      String bridgeGateway = OneNodeSwarm.inspect("network", "berth-swarm").getJsonObject(0).getJsonObject("IPAM")
          .getJsonArray("Config").getJsonObject(0).getString("Gateway");
      try (HostListeners host = new HostListeners()
          .on(bridgeGateway, "the host on the sessions network")
          .on("127.0.0.1", "the host's loopback, were the task in the host's network namespace")) {
        inside.assertSandboxReachesNone(host.targets(
            new String[] {otherAddress.substring(0, otherAddress.indexOf(':')), "8080", "another session's task"}));
      }
    }
  }

  @Test
  void withDialTaskEveryAddressTheGatewayDialsIsOnTheSessionsBridgeOfThisNode() throws Exception {
    List<DialRecorder> recorders = new CopyOnWriteArrayList<>();
    gateway = recordedGateway(recorders).onShutdown("keep").route("pool: {size: 1}").start(vertx);
    String token;
    String key;
    try (FrameClient client = connect(null)) {
      token = client.sessionToken();
      key = client.hello().getString("session");
      gateway.close();
      assertEquals(1012, client.awaitClose(), "told to reconnect");
    }
    gateway = recordedGateway(recorders).sameAs(gateway).onShutdown("end").route("pool: {size: 1}").start(vertx);
    String subnet;
    try (FrameClient back = connect(token)) {
      assertEquals(key, back.hello().getString("session"), "its own task, adopted by the new gateway");
      subnet = sessionsSubnet();
    }
    List<SocketAddress> dialled = recorders.stream().flatMap(recorder -> recorder.dialled.stream()).toList();
    assertTrue(dialled.size() >= 3, "a pool entry, a session, and what the second gateway adopted: " + dialled);
    for (SocketAddress address : dialled) {
      assertTrue(inSubnet(address.host(), subnet), address + " is not on the sessions bridge (" + subnet + ")");
    }
  }

  @Test
  void withDialPublishedTasksAreReachedAtTheirNodesPublishedPortOnLoopback() throws Exception {
    List<DialRecorder> recorders = new CopyOnWriteArrayList<>();
    gateway = recordedGateway(recorders).swarm("dial: published").egress("open").start(vertx);
    try (FrameClient client = connect(null)) {
      String key = client.hello().getString("session");
      client.socket().writeTextMessage("through a published port");
      assertEquals("through a published port", client.nextDataFrame().textData());
      JsonObject spec = serviceSpec(key);
      JsonObject port = spec.getJsonObject("EndpointSpec").getJsonArray("Ports").getJsonObject(0);
      assertEquals("host", port.getString("PublishMode"), "on the task's node, not through the ingress overlay");
      assertFalse(spec.getJsonObject("TaskTemplate").getJsonObject("Placement", new JsonObject()).containsKey("Constraints"),
          "placed anywhere by the scheduler");
    }
    List<SocketAddress> dialled = recorders.get(0).dialled;
    assertEquals(1, dialled.size(), String.valueOf(dialled));
    assertEquals("127.0.0.1", dialled.get(0).host(), "the node advertises 127.0.0.1: never an overlay address");
  }

  @Test
  void aPooledTaskIsLabelledWithItsSessionWhenClaimed() throws Exception {
    gateway = gatewayOn().route("pool: {size: 1}").start(vertx);
    awaitTrue(() -> get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"), 30_000,
        "the pool's task is ready");
    String pooled = swarm().services(gateway.route, null).get(0).getId();
    try (FrameClient client = connect(null)) {
      String key = client.hello().getString("session");
      awaitTrue(() -> swarm().services(gateway.route, key).size() == 1, 10_000, "its service is labelled with its session");
      List<Service> mine = swarm().services(gateway.route, key);
      assertEquals(pooled, mine.get(0).getId(), "the pool's task, claimed");
      assertFalse(mine.get(0).getSpec().getLabels().containsKey("berth.pool"));
      String metrics = get("/metrics");
      assertTrue(metrics.contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + gateway.route + "\"} 1.0"), metrics);
    }
  }

  @Test
  void aSecondGatewayTakesASessionOverByItsServiceLabelAndTheFirstLetsGo() throws Exception {
    gateway = gatewayOn().sessions("gatewayId: one").start(vertx);
    TestGateway second = gatewayOn().sameAs(gateway).port(0).sessions("gatewayId: two").start(vertx);
    try (FrameClient onFirst = connect(null)) {
      String key = onFirst.hello().getString("session");
      onFirst.socket().writeTextMessage("before the move");
      onFirst.nextDataFrame();
      try (FrameClient onSecond = FrameClient.connect(vertx, second.port, onFirst.sessionToken())) {
        assertEquals(4001, onFirst.awaitClose(), "the same close code as a handover within one gateway");
        assertEquals(Failure.MOVED_AWAY.publicReason(), onFirst.closeReason(), "and the reason says through another gateway");
        JsonObject state = onSecond.state();
        assertEquals(key, state.getString("session"), "its own task");
        assertEquals(1, state.getLong("framesReceived"), "with its state");
        assertEquals("two", swarm().services(gateway.route, key).get(0).getSpec().getLabels().get("berth.gateway"));
        assertEquals(1, backends.running(gateway.route), "one task, held by the second gateway");
      }
    } finally {
      second.close();
    }
  }

  @Test
  void aServiceWhoseTaskEndedIsRemovedByAnyGatewayAlsoWhenItsHolderIsGone() throws Exception {
    gateway = gatewayOn().onShutdown("keep").sessions("gatewayId: gone").start(vertx);
    String key;
    try (FrameClient client = connect(null)) {
      key = client.hello().getString("session");
      gateway.close(); // keep: the service stays, held by a gateway that is no more
      assertEquals(1012, client.awaitClose(), "told to reconnect");
    }
    gateway = gatewayOn().sameAs(gateway).sessions("gatewayId: alive").start(vertx);
    assertEquals(1, backends.running(gateway.route, key), "the service outlived its gateway, unadopted");
    backends.kill(gateway.route, key); // its handler ends with no gateway of its own to notice
    awaitTrue(() -> swarm().services(gateway.route, key).isEmpty() && swarm().containers(gateway.route) == 0, 10_000,
        "the gateway left removes the ended service and its container");
  }

  @Test
  void afterAReloadNewSessionsRunTheNewVersionAndTheOldOneDrainsByItsDeadline() throws Exception {
    // The old session is checked at once after the reload, well inside its drain; the new one's
    // launch may take longer than that on a busy machine.
    gateway = gatewayOn().route("drain: 5s").start(vertx);
    try (FrameClient old = connect(null)) {
      String oldKey = old.hello().getString("session");
      gateway.editConfig(text -> text.replace("version: test", "version: v2"));
      gateway.verticle.reload("test").await(20, java.util.concurrent.TimeUnit.SECONDS);
      old.socket().writeTextMessage("the old session runs on");
      assertEquals("the old session runs on", old.nextDataFrame().textData());
      assertEquals("test", swarm().services(gateway.route, oldKey).get(0).getSpec().getLabels().get("berth.version"));
      try (FrameClient fresh = connect(null)) {
        JsonObject hello = fresh.hello();
        assertEquals("v2", hello.getString("version"), "a session started after the reload");
        assertEquals("v2", swarm().services(gateway.route, hello.getString("session")).get(0).getSpec().getLabels()
            .get("berth.version"));

        assertEquals(1001, old.awaitClose(), "told to reconnect at the drain deadline");
        awaitTrue(() -> swarm().services(gateway.route, oldKey).isEmpty(), 10_000, "the old version's service is removed");
        assertEquals(1, backends.running(gateway.route), "the new version's session runs on");
      }
    }
  }

  @Test
  void aRouteLimitHoldsAcrossTwoGatewaysOnTheSwarm() throws Exception {
    gateway = gatewayOn().maxSessions(1).sessions("gatewayId: one").start(vertx);
    TestGateway second = gatewayOn().sameAs(gateway).port(0).maxSessions(1).sessions("gatewayId: two").start(vertx);
    try (FrameClient onFirst = connect(null)) {
      onFirst.hello();
      awaitTrue(() -> refusedWith503(second.port), 10_000, "the second gateway counts the first's task against the limit");
      onFirst.socket().close((short) 1000);
      awaitTrue(() -> backends.running(gateway.route) == 0, 20_000, "the first session ended");
      awaitTrue(() -> !refusedWith503(second.port), 10_000, "the second gateway admits again once the task is gone");
    } finally {
      second.close();
    }
  }

  private boolean refusedWith503(int port) {
    try (FrameClient client = FrameClient.connect(vertx, port, null)) {
      client.hello();
      client.socket().close((short) 1000);
      awaitTrue(() -> backends.running(gateway.route) <= 1, 20_000, "the probe session ended");
      return false;
    } catch (Exception refused) {
      if (refused.getMessage() != null && refused.getMessage().contains("503")) {
        return true;
      }
      throw new AssertionError("refused, but not with 503", refused);
    }
  }
}
