package dev.berth.gateway;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.edge.EdgeRouter;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.launcher.LauncherFactory;
import dev.berth.gateway.metrics.GatewayMetrics;
import dev.berth.gateway.metrics.MeteredLauncher;
import dev.berth.gateway.session.SessionRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.util.logging.Logger;

/**
 * Wires the gateway together and owns its lifecycle: launcher, session registry, the upstream
 * websocket client and the edge server. It holds no logic of its own.
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(GatewayVerticle.class.getName());

  private final BerthConfig config;
  private GatewayMetrics metrics;
  private Launcher launcher;
  private SessionRegistry registry;
  // Held for the gateway's lifetime: an unreachable client is closed by a Cleaner.
  private WebSocketClient upstream;
  private HttpServer server;

  public GatewayVerticle(BerthConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    int maxFrame = config.listen().maxFrameBytes();
    upstream = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(maxFrame)
        .setMaxMessageSize(maxFrame)
        .setTryUsePerMessageCompression(false)
        .setTryUsePerFrameCompression(false));
    metrics = new GatewayMetrics(config.routes(), () -> registry == null ? 0 : registry.size());
    return LauncherFactory.create(vertx, config).compose(chosen -> {
      launcher = new MeteredLauncher(chosen, metrics);
      registry = new SessionRegistry(vertx, launcher, metrics);
      HttpServerOptions options = new HttpServerOptions()
          .setHost(config.listen().host())
          .setPort(config.listen().port())
          .setMaxWebSocketFrameSize(maxFrame)
          .setMaxWebSocketMessageSize(maxFrame)
          .setPerMessageWebSocketCompressionSupported(false)
          .setPerFrameWebSocketCompressionSupported(false);
      return vertx.createHttpServer(options)
          .requestHandler(EdgeRouter.create(vertx, config, registry, upstream, metrics, launcher.name()))
          .listen();
    }).onSuccess(listening -> {
      server = listening;
      LOG.info("Berth gateway listening on http://" + config.listen().host() + ":" + server.actualPort()
          + "/ (launcher " + launcher.name() + ", config " + config.source() + ")");
    });
  }

  /** The port the edge listens on; useful when the config asked for port 0. */
  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    // Sessions first, so clients get a close code before the server drops their connections.
    Future<Void> ended = registry == null ? Future.succeededFuture() : registry.endAll(1001, "gateway shutting down");
    return ended
        .eventually(() -> server == null ? Future.succeededFuture() : server.close())
        .eventually(() -> launcher == null ? Future.succeededFuture() : launcher.close())
        .eventually(() -> upstream.close());
  }
}
