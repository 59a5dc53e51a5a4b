package dev.berth.gateway.admin;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.metrics.GatewayMetrics;
import dev.berth.gateway.session.Session;
import dev.berth.gateway.session.SessionRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * The operator's API, on the admin listener only (docs/operations.md). Every call carries {@code
 * Authorization: Bearer <admin.tokenFile>}; one that does not gets 401 with an empty body, so
 * an unauthenticated caller learns nothing, not even which paths exist.
 *
 * <pre>
 *   GET    /sessions               every session: key, route, version, state, age, bytes each way
 *   DELETE /sessions/{key}         ends one session (its client gets 4003); 404 if there is none
 *   GET    /admissions             {"admissions":"open"|"paused"}
 *   POST   /admissions/pause       no new session starts; existing ones still take their clients back
 *   POST   /admissions/resume
 *   GET    /config                 the config file in force and its version (sha-256 of its text)
 *   GET    /metrics                Prometheus, when admin.metrics is true
 * </pre>
 */
public final class AdminApi {

  private static final Logger LOG = Logger.getLogger(AdminApi.class.getName());

  private AdminApi() {}

  /**
   * The admin router.
   *
   * @param token the bearer token every call must present
   */
  public static Router router(Vertx vertx, BerthConfig config, String token, SessionRegistry registry,
      GatewayMetrics metrics) {
    byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.US_ASCII);
    String version = sha256(config.text()).substring(0, 16);
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      String presented = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
      if (presented == null || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.US_ASCII))) {
        LOG.warning("admin: refused " + ctx.request().method() + " from " + ctx.request().remoteAddress().hostAddress()
            + (presented == null ? " (no token)" : " (wrong token)"));
        ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer").end();
        return;
      }
      ctx.next();
    });
    router.get("/sessions").handler(ctx -> answer(ctx, registry.snapshot().map(sessions -> {
      JsonArray list = new JsonArray();
      sessions.forEach(session -> list.add(json(session)));
      return new JsonObject().put("sessions", list);
    })));
    router.delete("/sessions/:key").handler(ctx -> {
      String key = ctx.pathParam("key");
      registry.endByOperator(key).onSuccess(ended -> {
        if (ended) {
          LOG.info("admin: ended session " + key);
          ctx.response().setStatusCode(204).end();
        } else {
          ctx.response().setStatusCode(404);
          ctx.json(new JsonObject().put("error", "no live session with key " + key));
        }
      }).onFailure(ctx::fail);
    });
    router.get("/admissions").handler(ctx -> answer(ctx, registry.admissionsPaused().map(AdminApi::admissions)));
    router.post("/admissions/pause").handler(ctx -> answer(ctx, registry.pauseAdmissions(true).map(AdminApi::admissions)));
    router.post("/admissions/resume").handler(ctx -> answer(ctx, registry.pauseAdmissions(false).map(AdminApi::admissions)));
    router.get("/config").handler(ctx -> ctx.json(new JsonObject()
        .put("source", config.source().toString())
        .put("version", version)
        .put("text", config.text())));
    if (config.admin().metrics()) {
      router.get("/metrics").handler(ctx -> ctx.response()
          .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
          .end(metrics.scrape()));
    }
    return router;
  }

  private static void answer(RoutingContext ctx, Future<JsonObject> body) {
    body.onSuccess(ctx::json).onFailure(ctx::fail);
  }

  private static JsonObject admissions(boolean paused) {
    return new JsonObject().put("admissions", paused ? "paused" : "open");
  }

  private static JsonObject json(Session.Snapshot session) {
    return new JsonObject()
        .put("key", session.key())
        .put("route", session.route())
        .put("version", session.version())
        .put("state", session.state().name().toLowerCase(Locale.ROOT))
        .put("ageSeconds", session.ageSeconds())
        .put("bytesFromClient", session.fromClient())
        .put("bytesToClient", session.toClient());
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
