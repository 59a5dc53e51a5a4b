package dev.berth.gateway;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A gateway deployed for one test on an ephemeral port, from a config file written the way an
 * operator would write one. Its route name is unique per test, so whatever it launches can be
 * found and removed by label even when the test fails.
 */
final class TestGateway implements AutoCloseable {

  static final Path ROOT = Path.of(System.getProperty("berth.root", "..")).toAbsolutePath().normalize();
  static final String IMAGE = System.getProperty("berth.handler.image", "berth/handler:0.1.0");
  static final Path HANDLER_JAR = ROOT.resolve("handler-image/target/berth-handler.jar");

  final String route;
  final int port;
  private final Vertx vertx;
  private final String deployment;
  private boolean closed;

  private TestGateway(Vertx vertx, String route, String deployment, int port) {
    this.vertx = vertx;
    this.route = route;
    this.deployment = deployment;
    this.port = port;
  }

  static Builder on(LauncherKind launcher) {
    return new Builder(launcher);
  }

  static final class Builder {
    private final LauncherKind launcher;
    private String idleGrace = "30s";
    private int maxSessions = 20;
    private String image = IMAGE;
    private String readyTimeout = "15s";
    private String dockerHost = "unix:///var/run/docker.sock";

    private Builder(LauncherKind launcher) {
      this.launcher = launcher;
    }

    Builder idleGrace(String duration) {
      this.idleGrace = duration;
      return this;
    }

    Builder maxSessions(int count) {
      this.maxSessions = count;
      return this;
    }

    Builder image(String tag) {
      this.image = tag;
      return this;
    }

    Builder readyTimeout(String duration) {
      this.readyTimeout = duration;
      return this;
    }

    Builder dockerHost(String host) {
      this.dockerHost = host;
      return this;
    }

    TestGateway start(Vertx vertx) throws Exception {
      String route = "t-" + UUID.randomUUID().toString().substring(0, 8);
      Path file = Files.createTempFile("berth-test-", ".yaml");
      Files.writeString(file, """
          listen: {host: 127.0.0.1, port: 0}
          launcher: %s
          docker: {host: "%s"}
          routes:
            - name: %s
              path: /ws
              version: test
              docker: {image: "%s"}
              process: {command: [java, -XX:+UseSerialGC, -XX:TieredStopAtLevel=1, -jar, "%s"]}
              maxSessions: %d
              timeouts: {idleGrace: %s, ready: %s, stop: 1s}
          """.formatted(launcher.name().toLowerCase(Locale.ROOT), dockerHost, route, image,
          HANDLER_JAR, maxSessions, idleGrace, readyTimeout));
      try {
        BerthConfig config = ConfigLoader.load(file);
        GatewayVerticle gateway = new GatewayVerticle(config);
        String id = vertx.deployVerticle(gateway).await(60, TimeUnit.SECONDS);
        return new TestGateway(vertx, route, id, gateway.port());
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }

  /** Undeploys: the gateway ends its sessions and stops their backends. Runs once. */
  @Override
  public void close() throws Exception {
    if (!closed) {
      closed = true;
      vertx.undeploy(deployment).await(60, TimeUnit.SECONDS);
    }
  }
}
