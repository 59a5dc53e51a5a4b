package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Tag;

/** {@code launcher: swarm} on an engine in no swarm: the gateway does not start, and says how to make one. */
@ExtendWith(VertxExtension.class)
@Tag("engine")
@Tag("swarm")
class SwarmLauncherWithoutSwarmTest {

  @Test
  void aGatewayOnAnEngineInNoSwarmStopsAtStartWithTheCommandThatMakesOne(Vertx vertx) throws Exception {
    Assumptions.assumeTrue(OneNodeSwarm.docker("info", "--format", "{{.Swarm.LocalNodeState}}").trim().equals("inactive"),
        "the engine is in a swarm (a developer's own): nothing to prove here");
    Exception error = assertThrows(Exception.class, () -> TestGateway.on(LauncherKind.SWARM).start(vertx));
    assertTrue(error.getMessage().contains("is not a swarm manager"), error.getMessage());
    assertTrue(error.getMessage().contains("docker swarm init --advertise-addr"), error.getMessage());
    assertTrue(OneNodeSwarm.docker("network", "ls", "--format", "{{.Name}}").lines().noneMatch(name -> name.startsWith("berth-swarm")),
        "no network was made on the way");
  }
}
