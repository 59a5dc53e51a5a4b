package dev.berth.gateway;

import dev.berth.gateway.config.LauncherKind;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link TwoGatewaysIT} with {@code launcher: swarm} on a one-node swarm the test starts and
 * leaves: sessions are one-task services, and a take-over is a compare-and-set of the service's
 * {@code berth.gateway} label instead of a rename.
 */
class SwarmTwoGatewaysIT extends TwoGatewaysIT {

  @BeforeAll
  static void startOneNodeSwarm() throws Exception {
    OneNodeSwarm.join();
  }

  @AfterAll
  static void leaveTheSwarm() throws Exception {
    OneNodeSwarm.leave();
  }

  @Override
  LauncherKind launcher() {
    return LauncherKind.SWARM;
  }

  @Override
  List<String> holders(String route) {
    SwarmTestBackends swarm = (SwarmTestBackends) backends;
    return swarm.services(route, null).stream().map(service -> service.getSpec().getLabels().get("berth.gateway")).toList();
  }
}
