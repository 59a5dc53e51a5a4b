package dev.berth.gateway;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.SessionsConfig;
import dev.berth.gateway.edge.EdgeRouter;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.launcher.LauncherFactory;
import dev.berth.gateway.metrics.GatewayMetrics;
import dev.berth.gateway.metrics.MeteredLauncher;
import dev.berth.gateway.pipe.BackendDialer;
import dev.berth.gateway.session.SessionRegistry;
import dev.berth.gateway.session.SessionServices;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.util.List;
import java.util.logging.Logger;

/**
 * Wires the gateway together and owns its lifecycle: launcher, session registry, the upstream
 * websocket client and the edge server. It holds no logic of its own. At start, the sessions
 * the engine still runs are adopted before the edge listens, so no returning client can miss
 * its session; at stop, sessions are kept or ended as {@code sessions.onShutdown} says.
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(GatewayVerticle.class.getName());
  private static final String RESUME_SUBPROTOCOL = "berth.resume.v1";

  private final BerthConfig config;
  private final LauncherFactory.Source launchers;
  private GatewayMetrics metrics;
  private Launcher launcher;
  private SessionRegistry registry;
  // Held for the gateway's lifetime: an unreachable client is closed by a Cleaner.
  private WebSocketClient upstream;
  private HttpServer server;

  public GatewayVerticle(BerthConfig config) {
    this(config, LauncherFactory::create);
  }

  public GatewayVerticle(BerthConfig config, LauncherFactory.Source launchers) {
    this.config = config;
    this.launchers = launchers;
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
    long begun = System.nanoTime();
    return launchers.create(vertx, config, metrics).compose(chosen -> {
      launcher = new MeteredLauncher(chosen, metrics);
      registry = new SessionRegistry(config,
          new SessionServices(vertx, launcher, new BackendDialer(upstream), metrics, maxFrame));
      return registry.discover();
    }).compose(adopted -> {
      if (adopted > 0) {
        LOG.info("adopted " + adopted + " running session(s) from the engine in "
            + (System.nanoTime() - begun) / 1_000_000 + "ms; their clients get them back by reconnecting");
      }
      registry.startReaping();
      HttpServerOptions options = new HttpServerOptions()
          .setHost(config.listen().host())
          .setPort(config.listen().port())
          .setMaxWebSocketFrameSize(maxFrame)
          .setMaxWebSocketMessageSize(maxFrame)
          .setWebSocketSubProtocols(List.of(RESUME_SUBPROTOCOL))
          .setPerMessageWebSocketCompressionSupported(false)
          .setPerFrameWebSocketCompressionSupported(false);
      return vertx.createHttpServer(options)
          .requestHandler(EdgeRouter.create(vertx, config, registry, metrics, launcher.name()))
          .listen();
    }).onSuccess(listening -> {
      server = listening;
      LOG.info("Berth gateway listening on http://" + config.listen().host() + ":" + server.actualPort()
          + "/ (launcher " + launcher.name() + ", config " + config.source() + ")");
    }).recover(error -> stop().transform(stopped -> Future.failedFuture(error)));
  }

  /** The port the edge listens on; useful when the config asked for port 0. */
  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    boolean keep = config.sessions().onShutdown() == SessionsConfig.OnShutdown.KEEP
        && launcher != null && launcher.backendsOutliveGateway();
    if (registry != null) {
      LOG.info(keep ? "keeping " + registry.size() + " session(s) running for the next gateway (sessions.onShutdown: keep)"
          : "ending " + registry.size() + " session(s) and stopping their backends");
    }
    // Sessions first, so clients get a close code before the server drops their connections.
    Future<Void> sessions = registry == null ? Future.succeededFuture() : registry.shutdown(keep);
    return sessions
        .eventually(() -> server == null ? Future.succeededFuture() : server.close())
        .eventually(() -> launcher == null ? Future.succeededFuture() : launcher.close())
        .eventually(() -> upstream == null ? Future.succeededFuture() : upstream.close());
  }
}
