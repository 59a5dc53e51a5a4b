package dev.berth.handler;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Entry point of the session container: reads the BERTH_* environment, starts the server and
 * exits when the session is over (SIGTERM, or no websocket for the idle grace).
 *
 * <p>Exit status: 0 after an idle exit, 2 for a bad setting or argument, 1 when the server
 * cannot start, 143 after SIGTERM (the JVM's usual status for it).
 *
 * <p>The only argument, {@code --self-test}, starts on a free port, runs {@link SelfTest} against
 * itself and exits 0 (or 1); the image build uses it to record a class archive.
 */
public final class HandlerMain {

  /** Bound on the whole shutdown: websocket close handshakes, then Vert.x. */
  static final long SHUTDOWN_MILLIS = 2_000;
  static final int EXIT_BAD_CONFIG = 2;

  private HandlerMain() {
  }

  public static void main(String[] args) {
    boolean selfTest = args.length == 1 && "--self-test".equals(args[0]);
    if (args.length > 0 && !selfTest) {
      badSetting("unknown arguments " + String.join(" ", args) + "; accepted: none, or --self-test");
    }
    HandlerConfig config = null;
    try {
      config = HandlerConfig.fromEnv(System.getenv());
    } catch (HandlerConfig.InvalidConfig e) {
      badSetting(e.getMessage());
    }
    if (selfTest) {
      config = config.withPort(0);
    }
    HandlerLog log = new HandlerLog(config.session() == null ? "pool" : config.session());
    String hostname = hostname();
    SessionState state = new SessionState(config.session());

    Vertx vertx = Vertx.vertx(new VertxOptions()
        .setEventLoopPoolSize(1)       // one session, one user: one event loop is plenty
        .setWorkerPoolSize(2)
        .setInternalBlockingPoolSize(2)
        .setFileSystemOptions(new FileSystemOptions()
            .setFileCachingEnabled(false)
            .setClassPathResolvingEnabled(false)));

    Runnable idleExit = () -> {
      // Not on the event loop: System.exit waits for the shutdown hook, which needs the loop.
      Thread exit = new Thread(() -> System.exit(0), "berth-idle-exit");
      exit.start();
    };
    HandlerServer server = new HandlerServer(config, state, hostname, log, idleExit);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(vertx, server, state, log), "berth-shutdown"));

    if (config.session() == null) {
      warmUpClaimPath();
    }
    try {
      vertx.deployVerticle(server).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      log.info("cannot start: " + cause);
      System.exit(1);
    }
    if (selfTest) {
      try {
        SelfTest.run(vertx, server.actualPort(), log);
      } catch (Exception e) {
        log.info(e.getMessage() != null && e.getMessage().startsWith("self-test") ? e.getMessage()
            : "self-test failed: " + e);
        System.exit(1);
      }
      System.exit(0);
    }
  }

  /**
   * A pooled handler waits to be claimed, and then its first message decides how fast its session
   * starts: run that code once now, while no one waits (JSON decoding and encoding load and compile
   * a good deal on first use), so the claim itself is warm.
   */
  private static void warmUpClaimPath() {
    for (int i = 0; i < 50; i++) {
      JsonObject claim = new JsonObject("{\"cmd\":\"claim\",\"session\":\"warm-up-" + i + "\"}");
      new JsonObject().put("type", "hello").put("session", claim.getString("session")).put("version", "v")
          .put("hostname", "h").put("connection", i).encode();
    }
  }

  /** Prints what is wrong (one line on stderr) and exits 2. */
  private static void badSetting(String message) {
    System.err.println("berth-handler: " + message);
    System.exit(EXIT_BAD_CONFIG);
  }

  private static void shutdown(Vertx vertx, HandlerServer server, SessionState state, HandlerLog log) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHUTDOWN_MILLIS);
    int open = state.openConnections();
    log.info("shutdown: closing " + open + " websocket(s) with 1001 \"session over\"");
    await(server.closeAll((short) 1001, "session over").toCompletionStage().toCompletableFuture(), deadline);
    await(vertx.close().toCompletionStage().toCompletableFuture(), deadline);
    log.info("shutdown complete after " + state.connections() + " connection(s), "
        + state.framesReceived() + " frames echoed");
  }

  private static void await(CompletableFuture<?> future, long deadlineNanos) {
    long left = deadlineNanos - System.nanoTime();
    try {
      future.get(Math.max(1, left), TimeUnit.NANOSECONDS);
    } catch (Exception e) {
      // Timed out or failed: the process is going away anyway.
    }
  }

  /** The container's hostname: the resolver's view, else $HOSTNAME, else "unknown". */
  static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? "unknown" : env;
    }
  }
}
