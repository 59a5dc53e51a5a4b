package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Service;
import dev.berth.gateway.config.LauncherKind;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A session's service over its life on a one-node swarm (see {@link SwarmSessionTest}) that
 * gateways share: claimed from the pool and labelled with its session, taken over by a second
 * gateway, removed by any gateway once its task ended, drained after a reload, and counted against
 * the route's limit by every gateway.
 */
@ExtendWith(OneNodeSwarm.class)
@Tag("engine")
@Tag("swarm")
@Tag("slow")
@CpuCost(seconds = 19)
class SwarmServiceLifecycleTest extends RealLauncherTest {

    SwarmServiceLifecycleTest() {
        super(LauncherKind.SWARM);
    }

    private SwarmTestBackends swarm() {
        return (SwarmTestBackends) backends;
    }

    @Test
    void aPooledTaskIsLabelledWithItsSessionWhenClaimed() throws Exception {
        gateway = gatewayOn().route("pool: {size: 1}").start(vertx);
        awaitTrue(
                () -> get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                30_000,
                "the pool's task is ready");
        String pooled = swarm().services(gateway.route, null).get(0).getId();
        try (FrameClient client = connect(null)) {
            String key = client.hello().getString("session");
            awaitTrue(
                    () -> swarm().services(gateway.route, key).size() == 1,
                    10_000,
                    "its service is labelled with its session");
            List<Service> mine = swarm().services(gateway.route, key);
            assertEquals(pooled, mine.get(0).getId(), "the pool's task, claimed");
            assertFalse(mine.get(0).getSpec().getLabels().containsKey("berth.pool"));
            String metrics = get("/metrics");
            assertTrue(
                    metrics.contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + gateway.route + "\"} 1.0"),
                    metrics);
        }
    }

    @Test
    void aSecondGatewayTakesASessionOverByItsServiceLabelAndTheFirstLetsGo() throws Exception {
        gateway = gatewayOn().sessions("gatewayId: one").start(vertx);
        TestGateway second =
                gatewayOn().sameAs(gateway).port(0).sessions("gatewayId: two").start(vertx);
        try (FrameClient onFirst = connect(null)) {
            String key = onFirst.hello().getString("session");
            onFirst.socket().writeTextMessage("before the move");
            onFirst.nextDataFrame();
            try (FrameClient onSecond = FrameClient.connect(vertx, second.port, onFirst.sessionToken())) {
                assertEquals(4001, onFirst.awaitClose(), "the same close code as a handover within one gateway");
                assertEquals(
                        Failure.MOVED_AWAY.publicReason(),
                        onFirst.closeReason(),
                        "and the reason says through another gateway");
                JsonObject state = onSecond.state();
                assertEquals(key, state.getString("session"), "its own task");
                assertEquals(1, state.getLong("framesReceived"), "with its state");
                assertEquals(
                        "two",
                        swarm().services(gateway.route, key)
                                .get(0)
                                .getSpec()
                                .getLabels()
                                .get("berth.gateway"));
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
        awaitTrue(
                () -> swarm().services(gateway.route, key).isEmpty() && swarm().containers(gateway.route) == 0,
                10_000,
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
            assertEquals(
                    "test",
                    swarm().services(gateway.route, oldKey)
                            .get(0)
                            .getSpec()
                            .getLabels()
                            .get("berth.version"));
            try (FrameClient fresh = connect(null)) {
                JsonObject hello = fresh.hello();
                assertEquals("v2", hello.getString("version"), "a session started after the reload");
                assertEquals(
                        "v2",
                        swarm().services(gateway.route, hello.getString("session"))
                                .get(0)
                                .getSpec()
                                .getLabels()
                                .get("berth.version"));

                assertEquals(1001, old.awaitClose(), "told to reconnect at the drain deadline");
                awaitTrue(
                        () -> swarm().services(gateway.route, oldKey).isEmpty(),
                        10_000,
                        "the old version's service is removed");
                assertEquals(1, backends.running(gateway.route), "the new version's session runs on");
            }
        }
    }

    @Test
    void aRouteLimitHoldsAcrossTwoGatewaysOnTheSwarm() throws Exception {
        routeLimitHoldsAcrossTwoGateways("task");
    }
}
