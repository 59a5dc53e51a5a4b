package dev.berth.gateway;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigException;
import dev.berth.gateway.config.ConfigLoader;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * Starts the gateway: {@code java -jar berth-gateway.jar [--config config/berth.yaml] [--port N]}.
 * A bad config file stops it at once with a message naming the file, key and fix (exit 2).
 */
public final class Main {

  static {
    System.setProperty("java.util.logging.SimpleFormatter.format",
        System.getProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n"));
  }

  private static final Logger LOG = Logger.getLogger(Main.class.getName());
  private static final long SHUTDOWN_WAIT_SECONDS = 30;

  private Main() {}

  public static void main(String[] args) {
    BerthConfig config;
    try {
      config = configFrom(args);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("berth: " + e.getMessage());
      System.exit(2);
      return;
    }
    Vertx vertx = Vertx.vertx();
    vertx.deployVerticle(new GatewayVerticle(config)).onFailure(error -> {
      System.err.println("berth: cannot start: " + error.getMessage());
      vertx.close().onComplete(closed -> System.exit(1));
    });
    shutDownGracefullyOn(vertx, "TERM", "INT");
  }

  /**
   * Handles the signals itself rather than in a shutdown hook: JUL's own hook would close the log
   * handlers while sessions are still ending, and the shutdown would go unlogged.
   */
  private static void shutDownGracefullyOn(Vertx vertx, String... signals) {
    AtomicBoolean shuttingDown = new AtomicBoolean();
    for (String name : signals) {
      Signal.handle(new Signal(name), signal -> {
        if (!shuttingDown.compareAndSet(false, true)) {
          LOG.info("SIG" + signal.getName() + " again: already shutting down");
          return;
        }
        LOG.info("SIG" + signal.getName() + ": shutting down (sessions are kept or ended as sessions.onShutdown says)");
        int status = 0;
        try {
          vertx.close().await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
          LOG.info("shut down cleanly");
        } catch (Exception e) {
          LOG.severe("shutdown did not finish within " + SHUTDOWN_WAIT_SECONDS + "s: " + e);
          status = 1;
        }
        System.exit(status);
      });
    }
  }

  static BerthConfig configFrom(String[] args) {
    Path file = Path.of("config", "berth.yaml");
    Integer port = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--config" -> file = Path.of(required(args[i], value));
        case "--port" -> port = parsePort(required(args[i], value));
        default -> throw new IllegalArgumentException("unknown argument '" + args[i]
            + "'. Usage: java -jar berth-gateway.jar [--config FILE] [--port N]");
      }
      i++;
    }
    BerthConfig config = ConfigLoader.load(file);
    return port == null ? config : config.withListenPort(port);
  }

  private static String required(String flag, String value) {
    if (value == null) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return value;
  }

  private static int parsePort(String text) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException("--port takes a number from 0 to 65535, not '" + text + "'");
  }
}
