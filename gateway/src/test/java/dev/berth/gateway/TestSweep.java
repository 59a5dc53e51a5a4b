package dev.berth.gateway;

import java.util.ArrayList;
import java.util.List;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Removes what an earlier test run left on the engine, before the tests start and again when they
 * are over: containers and swarm services of test routes (their route names start with {@code t-},
 * see {@link TestGateway}), and a swarm the tests made (at the end, this run's own). A test cleans
 * up after itself even when it fails; this is for a test JVM that died (killed, out of memory, a
 * hung build stopped by hand). One test run at a time per engine: a second one's containers would
 * be swept too. No engine: nothing to do.
 */
public final class TestSweep implements LauncherSessionListener {

    /** Names the launchers give a test route's containers, services and their tasks: berth-ROUTE-KEY... */
    private static final String OF_A_TEST_ROUTE = "^berth-t-[0-9a-f]{8}-.+";

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        sweep("left by an earlier run", true);
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        sweep("left by this run", false);
    }

    private static void sweep(String which, boolean atStart) {
        try {
            if (Command.run(List.of("docker", "info", "--format", "{{.ServerVersion}}"), 20)
                            .status()
                    != 0) {
                return;
            }
            // By name: `service ls` has no template for a label.
            List<String> services = remove(
                    "service",
                    List.of(
                            "docker",
                            "service",
                            "ls",
                            "--filter",
                            "label=berth.managed=true",
                            "--format",
                            "{{.ID}} {{.Name}}"));
            List<String> containers = remove(
                    "container",
                    List.of(
                            "docker",
                            "ps",
                            "-a",
                            "--filter",
                            "label=berth.managed=true",
                            "--format",
                            "{{.ID}} {{.Names}}"));
            if (atStart) {
                // Its state is whatever the dead run left: in one, every task failed on a stale network.
                OneNodeSwarm.leaveOneTheTestsMade();
            } else {
                OneNodeSwarm.leave(); // the one this run made, if it did
            }
            if (!services.isEmpty() || !containers.isEmpty()) {
                System.err.println("TestSweep: removed " + containers.size() + " container(s) and " + services.size()
                        + " service(s) of test routes " + which + ": " + String.join(", ", services) + " "
                        + String.join(", ", containers));
            }
        } catch (Exception e) {
            System.err.println("TestSweep: could not look at the engine: " + e.getMessage());
        }
    }

    /** Removes the listed objects of test routes; their names. */
    private static List<String> remove(String kind, List<String> list) throws Exception {
        Command.Result listed = Command.run(list, 60);
        if (listed.status() != 0) {
            return List.of(); // e.g. no swarm: no services to list
        }
        List<String> removed = new ArrayList<>();
        for (String line : listed.output().lines().toList()) {
            String[] idAndName = line.trim().split(" ");
            if (idAndName.length == 2 && idAndName[1].matches(OF_A_TEST_ROUTE)) {
                Command.run(
                        kind.equals("service")
                                ? List.of("docker", "service", "rm", idAndName[0])
                                : List.of("docker", "rm", "-f", idAndName[0]),
                        60);
                removed.add(idAndName[1]);
            }
        }
        return removed;
    }
}
