package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/** The session behaviour with each session in its own container on a real Docker engine. */
@Tag("engine")
@Tag("slow")
class DockerSessionTest extends LauncherContractTest {

  @Override
  TestBackends backends(Vertx vertx) {
    return TestBackends.of(LauncherKind.DOCKER);
  }

  @Override
  TestGateway.Builder gatewayOn() {
    return TestGateway.on(LauncherKind.DOCKER);
  }

  private DockerTestBackends docker() {
    return (DockerTestBackends) backends;
  }

  private InspectContainerResponse containerOf(String key) {
    Container container = docker().containers(gateway.route, key, false).get(0);
    return docker().docker.inspectContainerCmd(container.getId()).exec();
  }

  @Test
  void twoSessionsRunInTwoDifferentContainers() throws Exception {
    gateway = gatewayOn().start(vertx);
    try (FrameClient alice = connect(null); FrameClient bob = connect(null)) {
      String aliceHost = alice.hello().getString("hostname");
      String bobHost = bob.hello().getString("hostname");
      assertNotEquals(aliceHost, bobHost);
      assertEquals(aliceHost, containerOf(alice.hello().getString("session")).getConfig().getHostName());
      assertEquals(bobHost, containerOf(bob.hello().getString("session")).getConfig().getHostName());
    }
  }

  @Test
  void containerIsLabelledLimitedLockedDownAndNeverPublished() throws Exception {
    gateway = gatewayOn().start(vertx);
    try (FrameClient client = connect(null)) {
      String key = client.hello().getString("session");
      InspectContainerResponse container = containerOf(key);
      Map<String, String> labels = container.getConfig().getLabels();
      assertEquals("true", labels.get("berth.managed"));
      assertEquals(key, labels.get("berth.session"));
      assertEquals(gateway.route, labels.get("berth.route"));
      assertEquals("test", labels.get("berth.version"));
      assertEquals("berth-" + gateway.route + "-" + key, container.getName().substring(1));

      HostConfig host = container.getHostConfig();
      assertEquals(128L << 20, host.getMemory());
      assertEquals(500_000_000L, host.getNanoCPUs());
      assertEquals(128L, host.getPidsLimit());
      assertTrue(Arrays.asList(host.getCapDrop()).contains(Capability.ALL));
      assertTrue(host.getSecurityOpts().contains("no-new-privileges"), String.valueOf(host.getSecurityOpts()));
      assertTrue(host.getPortBindings() == null || host.getPortBindings().getBindings().isEmpty(),
          "the handler port is never published");
      assertEquals("berth-sessions", host.getNetworkMode());

      var network = docker().docker.inspectNetworkCmd().withNetworkId("berth-sessions").exec();
      assertEquals("false", network.getOptions().get("com.docker.network.bridge.enable_icc"),
          "containers on the sessions network cannot reach each other");
      assertTrue(network.getInternal(), "no route off the machine (docker.egress: none)");
      assertEquals("65534:65534", container.getConfig().getUser(), "not root");
      assertTrue(host.getReadonlyRootfs(), "read-only root filesystem");
      assertTrue(host.getTmpFs().get("/tmp").contains("size=16777216"), String.valueOf(host.getTmpFs()));
      assertTrue(host.getBinds() == null || host.getBinds().length == 0, "nothing of the host is mounted");
      assertTrue(container.getMounts() == null || container.getMounts().isEmpty(), "no volume, no engine socket");
      assertFalse(host.getPrivileged());

      String address = container.getNetworkSettings().getNetworks().get("berth-sessions").getIpAddress();
      String handshake = client.socket().headers().toString() + client.hello().encode();
      assertTrue(!handshake.contains(address), "the client never sees the backend address " + address);
    }
  }

  @Test
  void missingImageStopsTheGatewayAtStartWithTheBuildCommand() {
    Exception error = assertThrows(Exception.class,
        () -> gatewayOn().image("berth/handler:no-such-version").start(vertx));
    assertTrue(error.getMessage().contains("berth/handler:no-such-version"), error.getMessage());
    assertTrue(error.getMessage().contains("routes[0].docker.image"), error.getMessage());
    assertTrue(error.getMessage().contains("build-image.sh"), error.getMessage());
  }

  @Test
  void backendThatNeverGetsReadyIsAnswered502AndRemoved() throws Exception {
    // No JVM starts and answers in 10ms: the ready deadline passes first.
    gateway = gatewayOn().readyTimeout("10ms").start(vertx);
    Throwable refusal = FrameClient.refusal(vertx, gateway.port);
    UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, refusal);
    assertEquals(502, rejected.getStatus());
    String body = rejected.getBody().toString();
    assertTrue(body.startsWith("ready_timeout: the session's backend took too long to get ready"), body);
    assertFalse(body.contains(gateway.route) || body.contains("container") || body.contains("routes["),
        "no backend names or settings in what the client sees: " + body);
    awaitTrue(() -> backends.running(gateway.route) == 0, 20_000, "the unready container is removed");
    String metrics = get("/metrics");
    assertTrue(metrics.contains("berth_launches_total{outcome=\"ready_timeout\",route=\"" + gateway.route + "\"} 1.0"), metrics);
  }

  @Test
  void engineThatStopsAnsweringMeansRetryLater503UntilItIsBack() throws Exception {
    try (EngineProxy engine = new EngineProxy()) {
      // The shipped reap interval: no look at the engine in between spends the pool's dead connections.
      gateway = gatewayOn().dockerHost(engine.host()).reapInterval("15s").start(vertx);
      try (FrameClient before = connect(null)) {
        before.hello();
        // Sessions started and ended at once leave the engine client several idle connections in its pool.
        List<FrameClient> burst = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          burst.add(connect(null));
        }
        for (FrameClient one : burst) {
          one.hello();
          one.close();
        }
        awaitTrue(() -> backends.running(gateway.route) == 1, 20_000, "the burst's containers removed");
        engine.cut();
        Throwable refusal = FrameClient.refusal(vertx, gateway.port);
        UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, refusal);
        assertEquals(503, rejected.getStatus());
        assertEquals("5", rejected.getHeaders().get("Retry-After"));
        assertTrue(rejected.getBody().toString().startsWith("engine_unavailable"), rejected.getBody().toString());
        before.socket().writeTextMessage("the running session does not need the engine");
        assertEquals("the running session does not need the engine", before.nextDataFrame().textData());

        Thread.sleep(3000); // the engine stays away a while, as a dockerd restart would
        engine.restore();
        for (int i = 0; i < 5; i++) { // at once, one by one: every one opens at the first try
          try (FrameClient after = connect(null)) {
            assertEquals(1, backends.running(gateway.route, after.hello().getString("session")), "session " + i);
          }
          before.socket().writeTextMessage("still echoing " + i);
          assertEquals("still echoing " + i, before.nextDataFrame().textData());
        }
        LeakAudit.assertBalanced(gateway, docker(), 30_000);
        backends.kill(gateway.route, before.hello().getString("session"));
        assertEquals(1011, before.awaitClose());
        // The end is told as an exit only from the engine's die event: deaths are watched again.
        awaitTrue(() -> get("/metrics").contains("berth_sessions_ended_total{reason=\"backend_exited\",route=\""
            + gateway.route + "\"} 1.0"), 20_000, "the killed session ended as an exit");
        LeakAudit.assertBalanced(gateway, docker(), 30_000);
      }
      gateway.close(); // while the engine answers, so the gateway removes its containers itself
    }
  }

  /**
   * Found by the soak (docs/benchmarks/soak.md): a session served from the warm pool while the
   * engine is away cannot have its container named after it; it is named once the engine is back,
   * so a gateway restarted later finds the session and its client gets it back.
   */
  @Test
  void aSessionClaimedFromThePoolWhileTheEngineIsAwayIsNamedOnceItIsBackSoARestartedGatewayFindsIt() throws Exception {
    try (EngineProxy engine = new EngineProxy()) {
      startWithAFullPoolAndCut(engine);
      String key;
      String token;
      try (FrameClient client = connect(null)) {
        key = client.hello().getString("session");
        token = client.sessionToken();
        client.socket().writeTextMessage("before the restart");
        client.nextDataFrame();
        engine.restore();
        awaitTrue(() -> backends.running(gateway.route, key) == 1, 30_000,
            "its container named after the session once the engine is back");
        gateway.close(); // keep: handed off to the next gateway
        assertEquals(1012, client.awaitClose());
      }
      // onShutdown end: this one removes what it holds when the test closes it
      gateway = gatewayOn().sameAs(gateway).dockerHost(engine.host()).route("pool: {size: 1}").start(vertx);
      assertReturnsToItsSessionWithItsState(token, key);
      gateway.close(); // while the engine answers, so the gateway removes its containers itself
    }
  }

  /**
   * A gateway that stopped before the engine had its pool-claimed session's name leaves a
   * container that looks like a pool entry and is a session's: the next gateway must not hand it
   * to a new client (in the soak, a new user got another user's session), but adopt it as that
   * session, whose client gets it back.
   */
  @Test
  void aPoolContainerThatServesASessionAlreadyIsAdoptedAsThatSessionAndNeverGivenToAnother() throws Exception {
    try (EngineProxy engine = new EngineProxy()) {
      startWithAFullPoolAndCut(engine);
      String key;
      String token;
      try (FrameClient client = connect(null)) {
        key = client.hello().getString("session");
        token = client.sessionToken();
        client.socket().writeTextMessage("before the restart");
        client.nextDataFrame();
        gateway.close(); // while the engine is away: its container keeps its pool name
        assertEquals(1012, client.awaitClose());
      }
      engine.restore();
      // onShutdown end: this one removes what it holds when the test closes it
      gateway = gatewayOn().sameAs(gateway).dockerHost(engine.host()).route("pool: {size: 1}").start(vertx);
      try (FrameClient stranger = connect(null)) {
        assertNotEquals(key, stranger.hello().getString("session"), "a new client gets a session of its own");
      }
      assertReturnsToItsSessionWithItsState(token, key);
      awaitTrue(() -> backends.running(gateway.route, key) == 1, 30_000, "named after its session now");
      gateway.close();
    }
  }

  /** A keeping gateway behind the engine proxy, its pool of one filled, then the engine cut away. */
  private void startWithAFullPoolAndCut(EngineProxy engine) throws Exception {
    gateway = gatewayOn().dockerHost(engine.host()).onShutdown("keep").route("pool: {size: 1}").start(vertx);
    awaitPoolFilled();
    engine.cut();
  }

  /** The client of {@code token} comes back to session {@code key}, which got its one message before. */
  private void assertReturnsToItsSessionWithItsState(String token, String key) throws Exception {
    try (FrameClient back = connect(token)) {
      JsonObject state = back.state();
      assertEquals(key, state.getString("session"), "the returning client gets its own session");
      assertEquals(1, state.getLong("framesReceived"), "with its state");
    }
  }

  /** Found by the soak: a session ended while the engine was away came back to life when it returned. */
  @Test
  void aSessionEndedWhileTheEngineIsAwayHasItsContainerRemovedOnceItIsBackAndStaysEnded() throws Exception {
    try (EngineProxy engine = new EngineProxy()) {
      // A grace far longer than the test: a container adopted as a session would outlive every wait below.
      gateway = gatewayOn().dockerHost(engine.host()).reapInterval("1s").grace("120s").start(vertx);
      String key;
      String token;
      try (FrameClient client = connect(null)) {
        key = client.hello().getString("session");
        token = client.sessionToken();
        engine.cut();
        client.socket().close((short) 1000, "done").await(10, TimeUnit.SECONDS);
      }
      awaitTrue(() -> get("/health").contains("\"sessions\":0"), 20_000, "the session ended: " + get("/health"));
      engine.restore();
      awaitTrue(() -> backends.running(gateway.route, key) == 0, 30_000,
          "its container removed once the engine is back, not adopted again");
      try (FrameClient again = connect(token)) {
        assertNotEquals(key, again.hello().getString("session"), "the ended session stays ended: a new one");
      }
      LeakAudit.assertBalanced(gateway, docker(), 30_000);
      gateway.close();
    }
  }

  private void awaitPoolFilled() throws InterruptedException {
    awaitTrue(() -> get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"), 60_000,
        "the pool filled");
  }

  @Test
  void anEngineWhoseCallsHangIsReportedStalledAndNewSessionsGet503AtOnceUntilItAnswers() throws Exception {
    try (EngineProxy engine = new EngineProxy()) {
      gateway = gatewayOn().dockerHost(engine.host()).docker("stallAfter: 2s").start(vertx);
      try (FrameClient before = connect(null)) {
        before.hello();
        engine.freeze();
        awaitTrue(() -> get("/health").contains("\"engine\":{\"state\":\"stalled\""), 20_000,
            "the gateway says its engine is stalled: " + get("/health"));
        assertTrue(get("/metrics").contains("berth_engine_state{state=\"stalled\"} 1.0"), get("/metrics"));
        long asked = System.nanoTime();
        UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class,
            FrameClient.refusal(vertx, gateway.port));
        long tookMs = (System.nanoTime() - asked) / 1_000_000;
        assertEquals(503, rejected.getStatus());
        assertTrue(rejected.getBody().toString().startsWith("engine_unavailable"), rejected.getBody().toString());
        assertTrue(tookMs < 5000, "refused at once, not queued behind hung calls: " + tookMs + "ms");
        before.socket().writeTextMessage("the running session does not need the engine");
        assertEquals("the running session does not need the engine", before.nextDataFrame().textData());

        engine.thaw();
        awaitTrue(() -> get("/health").contains("\"engine\":{\"state\":\"up\"}"), 20_000, "up again: " + get("/health"));
        try (FrameClient after = connect(null)) {
          assertEquals(1, backends.running(gateway.route, after.hello().getString("session")));
        }
        LeakAudit.assertBalanced(gateway, docker(), 30_000);
      }
      gateway.close();
    }
  }

  @Test
  void theShippedHandlerEchoesAFourMebibyteMessageIn64ByteFragmentsThroughTheGateway() throws Exception {
    gateway = gatewayOn().route("env: {BERTH_FEED_PER_SECOND: '0'}").start(vertx);
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
    try (FrameClient killed = connect(null); FrameClient leaking = connect(null); FrameClient bystander = connect(null)) {
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
      assertEquals(1, bystander.state().getLong("connections"), "the bystander's backend connection was never cut");
      assertEquals(1, backends.running(gateway.route, bystanderKey));
      awaitTrue(() -> backends.running(gateway.route, killedKey) + backends.running(gateway.route, leakingKey) == 0,
          20_000, "both dead containers removed");
      assertTrue(get("/metrics").contains("berth_sessions_ended_total{reason=\"backend_exited\",route=\""
          + gateway.route + "\"} 2.0"), get("/metrics"));
      LeakAudit.assertBalanced(gateway, docker(), 30_000);
    }
  }

  @Test
  void eventStreamStaysOpenThroughAQuietSpellLongerThanTheApiTimeout() throws Exception {
    gateway = gatewayOn().apiTimeout("1s").start(vertx);
    Thread.sleep(3500); // no container event at all for more than three API timeouts
    assertTrue(get("/metrics").contains("berth_engine_event_stream_reconnects_total 0.0"), get("/metrics"));
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
    awaitTrue(() -> get("/health").contains("\"sessions\":0"), 20_000, "the clients ended their sessions with 1000");
    gateway.close();
    assertEquals(0, backends.running(gateway.route), "onShutdown keep, but the clients ended their sessions with 1000");
  }

  @Test
  void reaperAdoptsAContainerNoSessionHoldsAndRemovesItAfterTheGracePeriod() throws Exception {
    gateway = gatewayOn().grace("2s").start(vertx);
    // As a crash between launch and cleanup would leave it: running, labelled, held by no session.
    String key = "0123456789abcdef01234567";
    String id = docker().docker.createContainerCmd(TestGateway.IMAGE)
        .withName("berth-" + gateway.route + "-" + key)
        .withLabels(Map.of("berth.managed", "true", "berth.session", key, "berth.route", gateway.route,
            "berth.version", "test"))
        .withEnv("BERTH_SESSION=" + key, "BERTH_IDLE_GRACE_MS=300000")
        .withHostConfig(HostConfig.newHostConfig().withNetworkMode("berth-sessions"))
        .exec().getId();
    docker().docker.startContainerCmd(id).exec();
    awaitTrue(() -> get("/health").contains("\"sessions\":1"), 10_000, "the reaper adopted it");
    LeakAudit.assertBalanced(gateway, docker(), 30_000);
    awaitTrue(() -> backends.running(gateway.route) == 0, 20_000, "nobody came back: removed after the grace period");
    assertTrue(get("/metrics").contains("berth_sessions_ended_total{reason=\"grace_expired\",route=\""
        + gateway.route + "\"} 1.0"), get("/metrics"));
  }

  @Test
  void fromInsideItsContainerASessionReachesNeitherAnotherSessionNorTheGatewayNorTheEngine() throws Exception {
    gateway = gatewayOn().start(vertx);
    try (FrameClient inside = connect(null); FrameClient other = connect(null)) {
      inside.hello();
      String otherAddress = backends.address(gateway.route, other.hello().getString("session"));
      String bridgeGateway = docker().docker.inspectNetworkCmd().withNetworkId("berth-sessions").exec()
          .getIpam().getConfig().get(0).getGateway();
      // Each a listener of this test's own, so a sandbox that reaches one fails the test for real.
      try (HostListeners host = new HostListeners()
          .on(bridgeGateway, "the host on the sessions network (the gateway, the engine and any host service listen so)")
          .on("127.0.0.1", "the host's loopback, were the session in the host's network namespace")) {
        inside.assertSandboxReachesNone(host.targets(
            new String[] {otherAddress.substring(0, otherAddress.indexOf(':')), "8080", "another session's container"}));
      }
    }
  }
}
