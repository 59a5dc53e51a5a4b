package dev.berth.gateway;

import dev.berth.gateway.config.LauncherKind;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link TwoGatewaysTest} with {@code launcher: swarm} on a one-node swarm the test starts and
 * leaves: sessions are one-task services, and a take-over is a compare-and-set of the service's
 * {@code berth.gateway} label instead of a rename.
 */
@ExtendWith(OneNodeSwarm.class)
@Tag("engine")
@Tag("swarm")
@Tag("slow")
@CpuCost(seconds = 25)
class SwarmTwoGatewaysTest extends TwoGatewaysTest {

    @Override
    LauncherKind launcher() {
        return LauncherKind.SWARM;
    }

    @Override
    List<String> holders(String route) {
        SwarmTestBackends swarm = (SwarmTestBackends) backends;
        return swarm.services(route, null).stream()
                .map(service -> service.getSpec().getLabels().get("berth.gateway"))
                .toList();
    }
}
