package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.berth.gateway.OneNodeSwarm;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The swarm launcher's session network on a real one-node swarm: gateways that start at once (a
 * deployment of several replicas) each make sure of it, none fails because another made it first,
 * and one network of each name is left (the engine let racing creates of the config-only network
 * make one each, and then refused to find any of them by name).
 */
@ExtendWith(OneNodeSwarm.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@Tag("engine")
@Tag("swarm")
class SwarmNetworksTest {

    private static final int GATEWAYS = 4;

    @Test
    void gatewaysStartingAtOnceAllGetTheOneNetworkWhicheverMadeIt() throws Exception {
        String name = "berth-t-net-" + UUID.randomUUID().toString().substring(0, 8);
        DockerConfig config = new DockerConfig(
                "unix:///var/run/docker.sock",
                "berth-sessions",
                Duration.ofSeconds(30),
                Duration.ofSeconds(10),
                4,
                new DockerConfig.Swarm(name, DockerConfig.Dial.TASK));
        Vertx vertx = Vertx.vertx();
        List<EngineConnection> engines = new ArrayList<>();
        ExecutorService starting = Executors.newFixedThreadPool(GATEWAYS);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> ensured = new ArrayList<>();
            for (int i = 0; i < GATEWAYS; i++) {
                EngineConnection engine = new EngineConnection(vertx, config);
                engines.add(engine);
                SwarmNetworks networks = new SwarmNetworks(engine, config.swarm());
                ensured.add(starting.submit(() -> {
                    go.await();
                    return networks.ensure(RouteConfig.Egress.NONE);
                }));
            }
            go.countDown();
            var bridges = new HashSet<String>();
            for (Future<String> each : ensured) {
                bridges.add(each.get(60, TimeUnit.SECONDS)); // throws if that gateway's start failed
            }
            assertEquals(1, bridges.size(), "every gateway found the same network: " + bridges);
            assertNotNull(OneNodeSwarm.inspect("network", name).getJsonObject(0));
            for (String network : List.of(name, name + "-config")) {
                long same = OneNodeSwarm.docker("network", "ls", "--format", "{{.Name}}")
                        .lines()
                        .filter(network::equals)
                        .count();
                assertEquals(1, same, "one network " + network + ", not one per gateway");
            }
        } finally {
            starting.shutdownNow();
            for (String network : List.of(name, name + "-config")) {
                try {
                    OneNodeSwarm.docker("network", "rm", network);
                } catch (Exception notThere) {
                    // made by none, if every start failed before it
                }
            }
            for (EngineConnection engine : engines) {
                engine.close().await(30, TimeUnit.SECONDS);
            }
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }
}
