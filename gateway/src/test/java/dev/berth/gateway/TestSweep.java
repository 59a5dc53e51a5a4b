package dev.berth.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Removes what test runs left on the engine: before the tests start, the containers and swarm
 * services of test routes whose run is over (their JVM is gone: killed, out of memory, a hung build
 * stopped by hand), and when they are over, this run's own ({@link TestRoutes} knows which run
 * made each route); and a swarm the tests made (at the end, this run's own). A test cleans up after
 * itself even when it fails; this is for a JVM that could not. Another test run on the same engine
 * keeps its sessions. No engine: nothing to do.
 */
public final class TestSweep implements LauncherSessionListener {

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
            Set<String> live = atStart ? TestRoutes.ofLiveRuns() : Set.of();
            Set<String> mine = atStart ? Set.of() : TestRoutes.ofThisRun();
            Predicate<String> leftOver = name -> {
                String route = TestRoutes.routeOf(name);
                return route != null && (atStart ? !live.contains(route) : mine.contains(route));
            };
            if (Command.run(List.of("docker", "info", "--format", "{{.ServerVersion}}"), 20)
                            .status()
                    != 0) {
                return;
            }
            // By name: `service ls` has no template for a label.
            List<String> services = remove(
                    "service",
                    leftOver,
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
                    leftOver,
                    List.of(
                            "docker",
                            "ps",
                            "-a",
                            "--filter",
                            "label=berth.managed=true",
                            "--format",
                            "{{.ID}} {{.Names}}"));
            if (!atStart) {
                TestRoutes.forgetThisRun();
            }
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

    /** Removes the listed objects that are {@code leftOver}; their names. */
    private static List<String> remove(String kind, Predicate<String> leftOver, List<String> list) throws Exception {
        Command.Result listed = Command.run(list, 60);
        if (listed.status() != 0) {
            return List.of(); // e.g. no swarm: no services to list
        }
        List<String> removed = new ArrayList<>();
        for (String line : listed.output().lines().toList()) {
            String[] idAndName = line.trim().split(" ");
            if (idAndName.length == 2 && leftOver.test(idAndName[1])) {
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
