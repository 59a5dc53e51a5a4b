package dev.berth.handler;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTP/websocket server of one session, deployed as a verticle so every handler, timer and
 * counter update runs on one event loop.
 *
 * <ul>
 *   <li>{@code GET /ready}: 200 {@code ready}; any other plain request: 404.</li>
 *   <li>A websocket upgrade on any path starts a {@link Connection}.</li>
 *   <li>While no websocket is connected for longer than the idle grace (counted from start and
 *       from the last disconnect) the injected exit action runs once.</li>
 * </ul>
 */
public final class HandlerServer extends VerticleBase {

  /** Frame and message size limit: a 1 MiB message must pass in one frame, with room to spare. */
  public static final int MAX_WEBSOCKET_SIZE = 16 * 1024 * 1024;

  private final HandlerConfig config;
  private final SessionState state;
  private final String hostname;
  private final HandlerLog log;
  private final Runnable exitAction;

  private final Map<ServerWebSocket, Connection> connections = new LinkedHashMap<>();
  private HttpServer server;
  private long idleTimer = -1;
  private boolean exiting;

  /**
   * @param exitAction run once, on the event loop, when the idle grace expires; the real
   *                   process exits there, tests count it
   */
  public HandlerServer(HandlerConfig config, SessionState state, String hostname, HandlerLog log,
                       Runnable exitAction) {
    this.config = config;
    this.state = state;
    this.hostname = hostname;
    this.log = log;
    this.exitAction = exitAction;
  }

  static HttpServerOptions serverOptions(HandlerConfig config) {
    return new HttpServerOptions()
        .setHost(config.host())
        .setPort(config.port())
        .setPerFrameWebSocketCompressionSupported(false)
        .setPerMessageWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(MAX_WEBSOCKET_SIZE)
        .setMaxWebSocketMessageSize(MAX_WEBSOCKET_SIZE);
  }

  @Override
  public Future<?> start() {
    server = vertx.createHttpServer(serverOptions(config))
        .requestHandler(this::onRequest)
        .webSocketHandler(this::onWebSocket);
    return server.listen().onSuccess(s -> {
      log.info("listening on " + config.host() + ":" + s.actualPort() + " (version " + config.version()
          + ", hostname " + hostname + ", feed " + config.feedPerSecond() + "/s, idle grace "
          + config.idleGraceMs() + " ms" + sinceProcessStart() + ")");
      armIdleTimer();
    });
  }

  /**
   * "started in N ms", counted from the process start with /proc's 10 ms clock ticks
   * (ProcessHandle's start instant is only second-accurate), or "" off Linux.
   */
  static String sinceProcessStart() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long startTicks = Long.parseLong(fields[19]); // field 22 of stat, counted after "pid (comm)"
      String uptime = Files.readString(Path.of("/proc/uptime")).split(" ")[0];
      long ageMs = (long) (Double.parseDouble(uptime) * 1000) - startTicks * 10;
      return ", started in " + ageMs + " ms";
    } catch (Exception e) {
      return "";
    }
  }

  @Override
  public Future<?> stop() {
    cancelIdleTimer();
    connections.values().forEach(Connection::stop);
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The port the server listens on (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Closes every open websocket with {@code code} and {@code reason} and stops the idle timer;
   * callable from any thread. Completes when all close handshakes finished or failed.
   */
  public Future<Void> closeAll(short code, String reason) {
    if (context == null) {
      return Future.succeededFuture(); // not deployed (yet): nothing is open
    }
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      exiting = true;
      cancelIdleTimer();
      List<Future<Void>> closing = new ArrayList<>();
      for (Connection connection : new ArrayList<>(connections.values())) {
        connection.stop();
        closing.add(connection.socket().close(code, reason).recover(err -> Future.succeededFuture()));
      }
      Future.join(closing).<Void>mapEmpty().onComplete(done);
    });
    return done.future();
  }

  private void onRequest(HttpServerRequest request) {
    if ("/ready".equals(request.path())
        && (request.method() == HttpMethod.GET || request.method() == HttpMethod.HEAD)) {
      request.response().putHeader("content-type", "text/plain").end("ready");
    } else {
      request.response().setStatusCode(404).putHeader("content-type", "text/plain").end("not found");
    }
  }

  private void onWebSocket(ServerWebSocket socket) {
    if (exiting) {
      socket.close((short) 1001, "session over");
      return;
    }
    cancelIdleTimer();
    long number = state.connectionOpened();
    Connection connection = new Connection(vertx, socket, state, config, hostname, number);
    connections.put(socket, connection);
    socket.closeHandler(v -> onClose(connection));
    log.info("connect #" + number + " from " + socket.remoteAddress() + " path " + socket.path()
        + " (open " + state.openConnections() + ", total " + state.connections() + ")");
    connection.start();
  }

  private void onClose(Connection connection) {
    if (connections.remove(connection.socket()) == null) {
      return;
    }
    connection.stop();
    int open = state.connectionClosed();
    Short code = connection.socket().closeStatusCode();
    state.lastClose(code, connection.socket().closeReason());
    log.info("disconnect #" + connection.number() + " code " + (code == null ? "none" : code)
        + " after " + connection.ageMillis() + " ms, " + connection.framesIn() + " frames echoed"
        + " (open " + open + ", total " + state.connections() + ")");
    if (open == 0) {
      armIdleTimer();
    }
  }

  private void armIdleTimer() {
    cancelIdleTimer();
    if (exiting) {
      return;
    }
    idleTimer = vertx.setTimer(config.idleGraceMs(), id -> {
      idleTimer = -1;
      if (connections.isEmpty() && !exiting) {
        exiting = true;
        log.info("idle: no websocket for " + config.idleGraceMs() + " ms, exiting");
        exitAction.run();
      }
    });
  }

  private void cancelIdleTimer() {
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
      idleTimer = -1;
    }
  }
}
