package dev.berth.gateway;

import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A one-node swarm on the local engine for the swarm launcher's tests
 * ({@code @ExtendWith(OneNodeSwarm.class)} on the class): started when the engine is in none
 * (advertising 127.0.0.1, so the node's address is loopback) and left again after the class, with
 * the networks it and the launcher made; a swarm that was there before is left alone.
 */
public final class OneNodeSwarm implements BeforeAllCallback, AfterAllCallback {

  private static boolean startedHere;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    join();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    leave();
  }

  /** The node label a swarm the tests made carries, so a later run can tell it from a developer's own. */
  private static final String MADE_BY_TESTS = "berth.test=true";

  public static synchronized void join() throws Exception {
    if (docker("info", "--format", "{{.Swarm.LocalNodeState}}").trim().equals("active")) {
      return;
    }
    docker("swarm", "init", "--advertise-addr", "127.0.0.1");
    startedHere = true; // before the label: a failure from here on still leaves the swarm after the class
    // `node update` takes no "self" (inspect does): the node's own id.
    docker("node", "update", "--label-add", MADE_BY_TESTS, docker("info", "--format", "{{.Swarm.NodeID}}").trim());
  }

  /** Leaves a swarm an earlier test run made and never left (its JVM died); a developer's own is kept. */
  public static synchronized void leaveOneTheTestsMade() throws Exception {
    if (!docker("info", "--format", "{{.Swarm.LocalNodeState}}").trim().equals("active")) {
      return;
    }
    if (docker("node", "inspect", "self", "--format", "{{index .Spec.Labels \"berth.test\"}}").trim().equals("true")) {
      startedHere = true;
      leave();
    }
  }

  public static synchronized void leave() throws Exception {
    if (!startedHere) {
      return;
    }
    docker("swarm", "leave", "--force");
    // The swarm networks go a moment after the swarm; the config-only ones they came from, after them.
    List<String> local = List.of("berth-swarm-config", "berth-swarm-egress-config", "docker_gwbridge");
    for (int attempt = 0; attempt < 50; attempt++) {
      for (String network : local) {
        run(List.of("docker", "network", "rm", network)); // gone already is fine
      }
      String left = docker("network", "ls", "--format", "{{.Name}}");
      if (local.stream().noneMatch(network -> left.lines().anyMatch(network::equals))) {
        break;
      }
      Thread.sleep(200);
    }
    startedHere = false;
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
