package dev.berth.gateway.edge;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.metrics.GatewayMetrics;
import dev.berth.gateway.session.SessionRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * What the one stable URL serves: the feed page at {@code /}, a websocket endpoint per route,
 * {@code /health} and {@code /metrics}. Backend addresses never appear in any answer.
 */
public final class EdgeRouter {

  private EdgeRouter() {}

  public static Router create(Vertx vertx, BerthConfig config, SessionRegistry registry, WebSocketClient upstream,
      GatewayMetrics metrics, String launcherName) {
    Router router = Router.router(vertx);
    String page = indexPage(config.routes().get(0));
    router.get("/").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(page));
    router.get("/health").handler(ctx -> ctx.json(new JsonObject()
        .put("status", "UP")
        .put("launcher", launcherName)
        .put("sessions", registry.size())));
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(metrics.scrape()));
    for (RouteConfig route : config.routes()) {
      router.get(route.path()).handler(new SessionWebSocketHandler(route, registry, upstream));
    }
    return router;
  }

  private static String indexPage(RouteConfig route) {
    try (InputStream in = EdgeRouter.class.getResourceAsStream("/web/index.html")) {
      if (in == null) {
        throw new IllegalStateException("web/index.html is missing from the gateway jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("{{WS_PATH}}", route.path());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
