package dev.berth.gateway.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Container;
import dev.berth.gateway.CpuCost;
import dev.berth.gateway.DockerTestBackends;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The warm pool on the real engine: ready containers wait, a claim takes one atomically (also
 * when two gateways share the engine and race for the same containers), the claimed container
 * serves exactly its session, the pool refills, a version change drains it, and a restarted
 * gateway adopts it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@Tag("engine")
@Tag("slow")
@CpuCost(seconds = 28)
class WarmPoolTest {

    /**
     * Clients racing for the two gateways' shared pool of two: twice the containers there are, so
     * that claims on both gateways collide on each one.
     */
    private static final int CLAIMS = 4;

    private Vertx vertx;
    private DockerTestBackends docker;
    private final List<TestGateway> gateways = new ArrayList<>();
    private String route;

    @BeforeEach
    void engine(Vertx vertx) {
        this.vertx = vertx;
        this.docker = new DockerTestBackends();
    }

    @AfterEach
    void removeEverything() throws Exception {
        int left = 0;
        try {
            for (TestGateway gateway : gateways) {
                gateway.close();
            }
        } finally {
            if (route != null) {
                left = docker.removeAll(route);
            }
            docker.close();
        }
        assertEquals(0, left, "containers left after the gateways stopped");
    }

    private TestGateway start(TestGateway.Builder builder) throws Exception {
        TestGateway gateway = builder.start(vertx);
        gateways.add(gateway);
        route = gateway.route;
        return gateway;
    }

    private static TestGateway.Builder pooled(int size) {
        return TestGateway.on(LauncherKind.DOCKER).route("pool: {size: " + size + "}");
    }

    private List<Container> poolContainers(boolean claimed) {
        return docker.containers(route, null, false).stream()
                .filter(c -> "true".equals(c.getLabels().get("berth.pool")))
                .filter(c -> c.getNames()[0].contains("-pool-") != claimed)
                .toList();
    }

    @Test
    void aNewSessionIsServedByAReadyContainerAndThePoolRefills() throws Exception {
        TestGateway gateway = start(pooled(2));
        awaitTrue(
                () -> gateway.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"),
                "the pool filled");
        Set<String> waiting = ids(poolContainers(false));
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            awaitTrue(
                    () -> docker.containers(route, key, false).size() == 1,
                    "named after its session (off the critical path)");
            Container serving = docker.containers(route, key, false).get(0);
            assertTrue(
                    waiting.contains(serving.getId()), "served by a container that was waiting before the client came");
            assertEquals(key, client.state().getString("session"), "the claimed handler knows its session");
            client.socket().writeTextMessage("echo");
            assertEquals("echo", client.nextDataFrame().textData());
            awaitTrue(
                    () -> gateway.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"),
                    "the pool refilled");
            String metrics = gateway.get("/metrics");
            assertTrue(
                    metrics.contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + route + "\"} 1.0"), metrics);
            assertTrue(
                    metrics.contains(
                            "berth_session_start_duration_seconds_count{phase=\"total\",route=\"" + route + "\"} 1"),
                    metrics);
        }
    }

    @Test
    void twoGatewaysSplitTheRoutesPoolAndTheOneLeftKeepsItWholeAgain() throws Exception {
        TestGateway one = start(pooled(2).sessions("gatewayId: one"));
        awaitTrue(() -> idle(one, 2), "alone, the first gateway keeps the whole pool");
        TestGateway two = start(pooled(2).sameAs(one).port(0).sessions("gatewayId: two"));
        awaitTrue(() -> idle(one, 1) && idle(two, 1), "each keeps half once both serve the route");
        awaitTrue(() -> poolContainers(false).size() == 2, "two idle containers on the engine, not four");
        try (FrameClient client = FrameClient.connect(vertx, two.port, null)) {
            client.hello();
            String metrics = two.get("/metrics");
            assertTrue(
                    metrics.contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + route + "\"} 1.0"),
                    "a session on the second gateway starts from its share: " + metrics);
        }
        gateways.remove(two);
        two.close(); // its sessions and its pool entry end with it
        awaitTrue(() -> idle(one, 2), "the gateway left keeps the whole pool again");
    }

    private boolean idle(TestGateway gateway, int count) {
        return gateway.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} " + count + ".0");
    }

    @Test
    void claimsAreExclusiveWhenTwoGatewaysOnOneEngineRaceForTheSameContainers() throws Exception {
        TestGateway first = start(pooled(2).reapInterval("1h"));
        awaitTrue(
                () -> first.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"),
                "the first pool filled");
        // The second gateway finds the first one's pool containers unheld and adopts them too: both
        // pools now hold the same two containers, and every claim races. (It looks at the engine only
        // at start: gateways that share sessions, not only a pool, are the scale-out issue's work.)
        TestGateway second = start(pooled(2).sameAs(first).port(0).reapInterval("1h"));
        awaitTrue(
                () -> second.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"),
                "the second pool adopted");
        ExecutorService pool = Executors.newFixedThreadPool(CLAIMS);
        List<FrameClient> clients = new ArrayList<>();
        try {
            List<Future<FrameClient>> connecting = new ArrayList<>();
            for (int i = 0; i < CLAIMS; i++) {
                int port = (i % 2 == 0 ? first : second).port;
                connecting.add(pool.submit(() -> FrameClient.connect(vertx, port, null)));
            }
            for (Future<FrameClient> each : connecting) {
                clients.add(each.get(60, TimeUnit.SECONDS));
            }
            Set<String> keys = new HashSet<>();
            Set<String> hosts = new HashSet<>();
            for (FrameClient client : clients) {
                JsonObject hello = client.hello();
                keys.add(hello.getString("session"));
                hosts.add(hello.getString("hostname"));
                assertEquals(hello.getString("session"), client.state().getString("session"));
            }
            assertEquals(CLAIMS, keys.size(), "one session per client");
            assertEquals(CLAIMS, hosts.size(), "each in a container of its own: no container claimed twice");
            for (String key : keys) {
                awaitTrue(() -> docker.containers(route, key, false).size() == 1, "one container for session " + key);
            }
        } finally {
            pool.shutdownNow();
            for (FrameClient client : clients) {
                client.close();
            }
        }
    }

    @Test
    void aRestartedGatewayAdoptsThePoolAndAVersionChangeDrainsIt() throws Exception {
        TestGateway first = start(pooled(2).onShutdown("keep"));
        awaitTrue(
                () -> first.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"),
                "the pool filled");
        Set<String> before = ids(poolContainers(false));
        first.close();
        assertEquals(before, ids(poolContainers(false)), "kept through a keep shutdown");

        TestGateway same = start(pooled(2).sameAs(first).onShutdown("keep"));
        awaitTrue(() -> same.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"), "adopted");
        assertEquals(before, ids(poolContainers(false)), "the same containers, none launched");
        assertTrue(
                same.get("/metrics").contains("berth_launches_total{outcome=\"success\",route=\"" + route + "\"} 0.0"));
        same.close();

        TestGateway upgraded = start(pooled(2).sameAs(first).version("v2"));
        awaitTrue(() -> upgraded.get("/metrics").contains("berth_pool_idle{route=\"" + route + "\"} 2.0"), "refilled");
        Set<String> after = ids(poolContainers(false));
        assertTrue(after.stream().noneMatch(before::contains), "the old version's pool was drained");
        poolContainers(false).forEach(c -> assertEquals("v2", c.getLabels().get("berth.version")));
        upgraded.close();
        assertEquals(0, poolContainers(false).size(), "onShutdown end removes the pool");
    }

    private static Set<String> ids(List<Container> containers) {
        Set<String> ids = new HashSet<>();
        containers.forEach(c -> ids.add(c.getId()));
        return ids;
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        dev.berth.gateway.Await.until(condition, 60_000, what);
    }
}
