package dev.berth.gateway.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.CpuCost;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pool between a floor and a ceiling, on the fake launcher (whose launches take a second, as a
 * container does): a burst raises its target to the ceiling and its refills run several at once;
 * once arrivals stop the target decays and the surplus idle entries are stopped, down to the floor.
 * What the engine adds (exclusive claims across gateways) is {@link WarmPoolTest}'s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@Tag("slow")
@CpuCost(seconds = 4)
class DemandPoolTest extends FakeLauncherGatewayTest {

    private static final int BURST = 6;
    private static final int CEILING = 4;

    @Override
    protected Duration launchTime() {
        return Duration.ofSeconds(1);
    }

    /** A gauge of this test's route. */
    private double gauge(String name) {
        return gateway.sample(name, "route=\"" + gateway.route + "\"");
    }

    @Test
    void aBurstRaisesTheTargetToTheCeilingRefillsInParallelAndTheTargetDecaysToTheFloor() throws Exception {
        gateway = gatewayOn()
                .route("pool: {min: 1, max: " + CEILING + ", decay: 4s}")
                .start(vertx);
        Await.until(() -> gauge("berth_pool_idle") == 1, 10_000, "the pool filled to its floor");
        assertEquals(1, gauge("berth_pool_target"), "no arrival yet: the floor");

        ExecutorService connecting = Executors.newFixedThreadPool(BURST);
        List<FrameClient> clients = new ArrayList<>();
        try {
            List<Future<FrameClient>> burst = new ArrayList<>();
            for (int i = 0; i < BURST; i++) {
                burst.add(connecting.submit(() -> FrameClient.connect(vertx, gateway.port, null)));
            }
            Set<String> keys = new HashSet<>();
            for (Future<FrameClient> each : burst) {
                clients.add(each.get(30, TimeUnit.SECONDS));
                keys.add(clients.get(clients.size() - 1).hello().getString("session"));
            }
            assertEquals(BURST, keys.size(), "a session each");
            long burstOver = System.nanoTime();
            Await.until(() -> gauge("berth_pool_target") == CEILING, 5_000, "the burst raised the target");
            Await.until(() -> gauge("berth_pool_idle") == CEILING, 10_000, "the pool refilled to its ceiling");
            long refilledMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstOver);
            assertTrue(
                    refilledMs < 3_500,
                    CEILING + " one-second launches took " + refilledMs + " ms after the burst: not one at a time");
            assertTrue(
                    launcher.mostStartingAtOnce() >= 2,
                    "refills ran side by side: at most " + launcher.mostStartingAtOnce() + " at once");
            assertEquals(
                    BURST + CEILING,
                    launcher.running(),
                    "a backend for each session and the ceiling's idle ones, none more");
        } finally {
            connecting.shutdownNow();
            for (FrameClient client : clients) {
                client.close();
            }
        }

        Await.until(() -> gauge("berth_pool_target") == 1, 25_000, "the target decayed to the floor");
        Await.until(() -> gauge("berth_pool_idle") == 1, 10_000, "the idle entries above it were stopped");
        Await.until(() -> launcher.running() == 1, 10_000, "their backends with them");
    }
}
