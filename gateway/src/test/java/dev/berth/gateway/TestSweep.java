package dev.berth.gateway;

import java.util.List;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Removes what an earlier test run left on the engine, before the tests start and again when they
 * are over: containers and swarm services of test routes (their route names start with {@code t-},
 * see {@link TestGateway}). A test cleans up after itself even when it fails; this is for a test
 * JVM that died (killed, out of memory, a hung build stopped by hand). One test run at a time per
 * engine: a second one's containers would be swept too. No engine: nothing to do.
 */
public final class TestSweep implements LauncherSessionListener {

  private static final String TEST_ROUTES = "^t-[0-9a-f]{8}$";

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    sweep("left by an earlier run");
  }

  @Override
  public void launcherSessionClosed(LauncherSession session) {
    sweep("left by this run");
  }

  private static void sweep(String which) {
    try {
      if (Command.run(List.of("docker", "info", "--format", "{{.ServerVersion}}"), 20).status() != 0) {
        return;
      }
      int services = remove("service", List.of("docker", "service", "ls", "--filter", "label=berth.managed=true",
          "--format", "{{.ID}} {{.Label \"berth.route\"}}"));
      int containers = remove("container", List.of("docker", "ps", "-a", "--filter", "label=berth.managed=true",
          "--format", "{{.ID}} {{.Label \"berth.route\"}}"));
      if (services + containers > 0) {
        System.err.println("TestSweep: removed " + containers + " container(s) and " + services + " service(s) of test"
            + " routes " + which);
      }
    } catch (Exception e) {
      System.err.println("TestSweep: could not look at the engine: " + e.getMessage());
    }
  }

  /** Removes the listed objects whose route is a test route; how many. */
  private static int remove(String kind, List<String> list) throws Exception {
    Command.Result listed = Command.run(list, 60);
    if (listed.status() != 0) {
      return 0; // e.g. no swarm: no services to list
    }
    int removed = 0;
    for (String line : listed.output().lines().toList()) {
      String[] idAndRoute = line.trim().split(" ");
      if (idAndRoute.length == 2 && idAndRoute[1].matches(TEST_ROUTES)) {
        Command.run(kind.equals("service") ? List.of("docker", "service", "rm", idAndRoute[0])
            : List.of("docker", "rm", "-f", idAndRoute[0]), 60);
        removed++;
      }
    }
    return removed;
  }
}
