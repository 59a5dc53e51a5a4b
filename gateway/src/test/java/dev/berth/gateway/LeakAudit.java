package dev.berth.gateway;

import com.github.dockerjava.api.model.Container;
import dev.berth.gateway.session.SessionSnapshot;
import dev.berth.gateway.session.SessionState;
import dev.berth.gateway.session.Sessions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What a gateway holds against what its engine runs, after a fault: no container without a
 * session, no session without a container, no pool entry unaccounted for, and no count, slot or
 * launch left over. Waits for the reaper and the ends in flight before it judges.
 */
public final class LeakAudit {

    private LeakAudit() {}

    /** Fails, naming what does not match, unless the gateway and the engine agree within {@code withinMs}. */
    public static void assertBalanced(TestGateway gateway, DockerTestBackends docker, long withinMs) throws Exception {
        String[] last = {""};
        try {
            Await.until(
                    () -> {
                        last[0] = mismatch(gateway, docker);
                        return last[0].isEmpty();
                    },
                    withinMs,
                    "the gateway and the engine agree");
        } catch (AssertionError unbalanced) {
            throw new AssertionError("leak audit: " + last[0], unbalanced);
        }
    }

    private static String mismatch(TestGateway gateway, DockerTestBackends docker) {
        try {
            List<SessionSnapshot> sessions = gateway.verticle.sessions().await(10, TimeUnit.SECONDS);
            Sessions.Holdings held = gateway.verticle.holdings().await(10, TimeUnit.SECONDS);
            Set<String> live = new TreeSet<>();
            sessions.stream()
                    .filter(session -> session.state() != SessionState.ENDING)
                    .forEach(session -> live.add(session.key()));
            Set<String> running = new TreeSet<>();
            int pooled = 0;
            for (Container container : docker.containers(gateway.route, null, false)) {
                String name = container.getNames()[0].substring(1);
                String key = container.getLabels().get("berth.session");
                if (key == null && name.matches("berth-" + gateway.route + "-[0-9a-f]{24}(\\..*)?")) {
                    key = name.substring(
                            ("berth-" + gateway.route + "-").length(), ("berth-" + gateway.route + "-").length() + 24);
                }
                if (key == null) {
                    pooled++;
                } else {
                    running.add(key);
                }
            }
            StringBuilder wrong = new StringBuilder();
            if (!live.equals(running)) {
                Set<String> withoutContainer = new TreeSet<>(live);
                withoutContainer.removeAll(running);
                Set<String> withoutSession = new TreeSet<>(running);
                withoutSession.removeAll(live);
                wrong.append("sessions without a container ")
                        .append(withoutContainer)
                        .append(", containers without a session ")
                        .append(withoutSession)
                        .append("; ");
            }
            if (pooled != held.pooled()) {
                wrong.append(pooled)
                        .append(" pool containers run, the pool holds ")
                        .append(held.pooled())
                        .append("; ");
            }
            if (held.sessions() != sessions.size() || held.countedOnRoutes() != held.sessions()) {
                wrong.append("counts disagree: ").append(held).append("; ");
            }
            if (held.takingOver() != 0 || held.launches() != 0 || held.clientSlots() > held.sessions()) {
                wrong.append("left over: ").append(held).append("; ");
            }
            return wrong.toString();
        } catch (Exception e) {
            return "cannot look: " + e;
        }
    }
}
