package dev.berth.gateway;

import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestTag;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * A one-node swarm on the local engine for the swarm launcher's tests
 * ({@code @ExtendWith(OneNodeSwarm.class)} on the class): started when the first such class starts
 * and the engine is in none (advertising 127.0.0.1, so the node's address is loopback), and left,
 * with the networks it and the launcher made, when the test run ends ({@link TestSweep}); a swarm
 * that was there before is left alone. One swarm for the run: making and leaving one costs seconds,
 * and the classes using it may run side by side. The test that needs the engine in no swarm runs in
 * the integration phase, after this one is gone (SwarmLauncherWithoutSwarmIT).
 */
public final class OneNodeSwarm implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        join(); // a swarm left by a run that died was left at the start of this one (TestSweep)
    }

    /**
     * Leaves the swarm once the run's last class tagged {@code swarm} is over, on a thread of its own
     * (leaving takes seconds), instead of at the very end of the run, after every other class.
     * Registered in META-INF/services.
     */
    public static final class LeaveWhenDone implements TestExecutionListener {

        private static final TestTag SWARM = TestTag.create("swarm");
        private final AtomicInteger swarmClassesLeft = new AtomicInteger();

        @Override
        public void testPlanExecutionStarted(TestPlan plan) {
            plan.getRoots()
                    .forEach(root -> plan.getDescendants(root).stream()
                            .filter(this::swarmClass)
                            .forEach(swarmClass -> swarmClassesLeft.incrementAndGet()));
        }

        @Override
        public void executionFinished(TestIdentifier identifier, TestExecutionResult result) {
            if (swarmClass(identifier) && swarmClassesLeft.decrementAndGet() == 0) {
                Thread leaving = new Thread(OneNodeSwarm::leaveQuietly, "leave-the-tests-swarm");
                leaving.setDaemon(true); // the end of the run's sweep waits for it (leave() is synchronized)
                leaving.start();
            }
        }

        private boolean swarmClass(TestIdentifier identifier) {
            return identifier.isContainer()
                    && identifier.getTags().contains(SWARM)
                    && identifier
                            .getSource()
                            .filter(ClassSource.class::isInstance)
                            .isPresent();
        }
    }

    private static void leaveQuietly() {
        try {
            leave();
        } catch (Exception e) {
            System.err.println(
                    "OneNodeSwarm: could not leave the swarm yet (the end of the run tries again): " + e.getMessage());
        }
    }

    /** Whether this run made the swarm, and leaves it at its end. */
    private static boolean startedHere;
    /** The node label a swarm the tests made carries, so a later run can tell it from a developer's own. */
    private static final String MADE_BY_TESTS = "berth.test=true";

    public static synchronized void join() throws Exception {
        if (docker("info", "--format", "{{.Swarm.LocalNodeState}}").trim().equals("active")) {
            return;
        }
        docker("swarm", "init", "--advertise-addr", "127.0.0.1");
        startedHere = true; // before the label: a failure from here on still leaves the swarm at the end
        // `node update` takes no "self" (inspect does): the node's own id.
        docker(
                "node",
                "update",
                "--label-add",
                MADE_BY_TESTS,
                docker("info", "--format", "{{.Swarm.NodeID}}").trim());
    }

    /** Leaves a swarm an earlier test run made and never left (its JVM died); a developer's own is kept. */
    public static synchronized void leaveOneTheTestsMade() throws Exception {
        if (!docker("info", "--format", "{{.Swarm.LocalNodeState}}").trim().equals("active")) {
            return;
        }
        if (docker("node", "inspect", "self", "--format", "{{index .Spec.Labels \"berth.test\"}}")
                .trim()
                .equals("true")) {
            startedHere = true;
            leave();
        }
    }

    public static synchronized void leave() throws Exception {
        if (!startedHere) {
            return;
        }
        // Services and swarm networks first, the swarm after them: a swarm left with a network still on
        // the node keeps its config-only network "in use" for good, across engine restarts (seen here).
        for (String service : docker("service", "ls", "-q", "--filter", "label=berth.managed=true")
                .lines()
                .toList()) {
            run(List.of("docker", "service", "rm", service));
        }
        removeNetworks(List.of("berth-swarm", "berth-swarm-egress"));
        docker("swarm", "leave", "--force");
        removeNetworks(List.of("berth-swarm-config", "berth-swarm-egress-config", "docker_gwbridge"));
        startedHere = false;
    }

    /**
     * Removes the networks, waiting up to three seconds for those still in use; what is left stays (a
     * config-only network can stay "in use" for good, see above: the launcher uses it as it is).
     */
    private static void removeNetworks(List<String> names) throws Exception {
        for (int attempt = 0; attempt < 15; attempt++) {
            for (String network : names) {
                run(List.of("docker", "network", "rm", network)); // gone already is fine
            }
            String left = docker("network", "ls", "--format", "{{.Name}}");
            if (names.stream().noneMatch(network -> left.lines().anyMatch(network::equals))) {
                return;
            }
            Thread.sleep(200);
        }
    }

    /** The engine's JSON view of a swarm object, e.g. {@code inspect("service", id)}. */
    public static JsonArray inspect(String kind, String id) throws Exception {
        return new JsonArray(docker(kind, "inspect", id));
    }

    /** Runs the docker command line; its output, or an exception with its error output. */
    public static String docker(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        Command.Result result = run(command);
        if (result.status() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + result.output());
        }
        return result.output();
    }

    private static Command.Result run(List<String> command) throws IOException, InterruptedException {
        return Command.run(command, 60);
    }
}
