package dev.berth.gateway.admin;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigReloader;
import dev.berth.gateway.config.Durations;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.session.Canaries;
import dev.berth.gateway.session.SessionSnapshot;
import dev.berth.gateway.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The operator's API, on the admin listener only (docs/operations.md). Every call carries {@code
 * Authorization: Bearer <admin.tokenFile>}, or for a GET the read-only {@code admin.readOnlyTokenFile};
 * one that does not gets 401 with an empty body, so an unauthenticated caller learns nothing, not
 * even which paths exist, and a change asked with the read-only token gets 403.
 *
 * <pre>
 *   GET    /sessions[?user=NAME]   every session (or a signed-in user's): key, route, version, state, age,
 *                                  bytes each way, client address and user
 *   DELETE /sessions/{key}         ends one session (its client gets 4003); 404 if there is none
 *   DELETE /sessions?user=NAME     ends every session of a signed-in user: {"ended": N}
 *   GET    /admissions             {"admissions":"open"|"paused"}
 *   POST   /admissions/pause       no new session starts; existing ones still take their clients back
 *   POST   /admissions/resume
 *   GET    /config                 the config file in force and its version (sha-256 of its text)
 *   POST   /config/reload          reads the file again: 200 with the new version, or 422 and why (the old stays)
 *   GET    /routes                 every route's version, canary (weight, tallies, brake) and draining versions
 *   POST   /routes/{route}/versions/{version}/drain?deadline=30s
 *                                  its sessions are told to reconnect after the deadline (a canary is braked first)
 *   GET    /metrics                Prometheus, when admin.metrics is true
 * </pre>
 */
public final class AdminApi {

    private static final Logger LOG = Logger.getLogger(AdminApi.class.getName());

    private AdminApi() {}

    /** The bearer tokens: {@code full} may do anything, {@code readOnly} only GET. */
    public record Tokens(String full, String readOnly) {}

    /**
     * The admin router.
     *
     * @param tokens the bearer tokens a call must present one of
     * @param metricsPage what answers {@code /metrics} here, or null where the edge serves it
     */
    public static Router router(
            Vertx vertx,
            ConfigReloader configs,
            Tokens tokens,
            Sessions registry,
            Handler<RoutingContext> metricsPage) {
        byte[] full = ("Bearer " + tokens.full()).getBytes(StandardCharsets.US_ASCII);
        byte[] readOnly = ("Bearer " + tokens.readOnly()).getBytes(StandardCharsets.US_ASCII);
        BerthConfig config = configs.inForce(); // its admin section never changes at run time
        Router router = Router.router(vertx);
        router.route().handler(ctx -> {
            String presented = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
            byte[] bytes = presented == null ? null : presented.getBytes(StandardCharsets.US_ASCII);
            if (bytes != null && MessageDigest.isEqual(readOnly, bytes) && !MessageDigest.isEqual(full, bytes)) {
                if (ctx.request().method() == HttpMethod.GET) {
                    ctx.next();
                } else {
                    LOG.warning("admin: refused " + ctx.request().method() + " "
                            + ctx.request().path() + " with the read-only token");
                    ctx.response().setStatusCode(403);
                    ctx.json(new JsonObject()
                            .put("error", "the read-only token (admin.readOnlyTokenFile) cannot change anything"));
                }
                return;
            }
            if (bytes == null || !MessageDigest.isEqual(full, bytes)) {
                LOG.warning("admin: refused " + ctx.request().method() + " from "
                        + ctx.request().remoteAddress().hostAddress()
                        + (presented == null ? " (no token)" : " (wrong token)"));
                ctx.response()
                        .setStatusCode(401)
                        .putHeader("WWW-Authenticate", "Bearer")
                        .end();
                return;
            }
            ctx.next();
        });
        router.get("/sessions")
                .handler(ctx -> answer(ctx, registry.snapshot().map(sessions -> {
                    String user = ctx.request().getParam("user");
                    JsonArray list = new JsonArray();
                    sessions.stream()
                            .filter(session -> user == null || user.equals(session.user()))
                            .forEach(session -> list.add(json(session)));
                    return new JsonObject().put("sessions", list);
                })));
        router.delete("/sessions").handler(ctx -> {
            String user = ctx.request().getParam("user");
            if (user == null) {
                ctx.response().setStatusCode(400);
                ctx.json(new JsonObject().put("error", "name the user whose sessions end: DELETE /sessions?user=NAME"));
                return;
            }
            answer(ctx, registry.endUserSessions(user).map(ended -> {
                LOG.info("admin: ended " + ended + " session(s) of user " + user);
                return new JsonObject().put("ended", ended);
            }));
        });
        router.delete("/sessions/:key").handler(ctx -> {
            String key = ctx.pathParam("key");
            registry.endByOperator(key)
                    .onSuccess(ended -> {
                        if (ended) {
                            LOG.info("admin: ended session " + key);
                            ctx.response().setStatusCode(204).end();
                        } else {
                            ctx.response().setStatusCode(404);
                            ctx.json(new JsonObject().put("error", "no live session with key " + key));
                        }
                    })
                    .onFailure(ctx::fail);
        });
        router.get("/admissions")
                .handler(ctx -> answer(ctx, registry.admissionsPaused().map(AdminApi::admissions)));
        router.post("/admissions/pause")
                .handler(ctx -> answer(ctx, registry.pauseAdmissions(true).map(AdminApi::admissions)));
        router.post("/admissions/resume")
                .handler(ctx -> answer(ctx, registry.pauseAdmissions(false).map(AdminApi::admissions)));
        router.get("/config").handler(ctx -> ctx.json(configJson(configs.inForce())));
        router.post("/config/reload")
                .handler(ctx -> configs.reload("admin API").onComplete(reloaded -> {
                    if (reloaded.succeeded()) {
                        ctx.json(configJson(reloaded.result()).put("reloaded", true));
                    } else {
                        ctx.response().setStatusCode(422);
                        ctx.json(new JsonObject()
                                .put("error", reloaded.cause().getMessage())
                                .put("version", configs.inForce().version()));
                    }
                }));
        router.get("/routes").handler(ctx -> answer(ctx, registry.versions().map(AdminApi::versionsJson)));
        router.post("/routes/:route/versions/:version/drain").handler(ctx -> {
            String route = ctx.pathParam("route");
            String version = ctx.pathParam("version");
            Duration deadline;
            try {
                deadline = Durations.parse(ctx.queryParams().get("deadline"), Duration.ZERO);
            } catch (IllegalArgumentException badDeadline) {
                ctx.response().setStatusCode(400);
                ctx.json(new JsonObject().put("error", "deadline: " + badDeadline.getMessage()));
                return;
            }
            registry.drainVersion(route, version, deadline).onComplete(drained -> {
                if (drained.succeeded()) {
                    LOG.info("admin: draining version " + version + " of route " + route + " within "
                            + deadline.toMillis() + "ms");
                    ctx.json(new JsonObject()
                            .put("route", route)
                            .put("version", version)
                            .put("sessions", drained.result())
                            .put("deadlineMs", deadline.toMillis()));
                } else {
                    ctx.response()
                            .setStatusCode(drained.cause() instanceof java.util.NoSuchElementException ? 404 : 409);
                    ctx.json(new JsonObject().put("error", drained.cause().getMessage()));
                }
            });
        });
        if (metricsPage != null) {
            router.get("/metrics").handler(metricsPage);
        }
        return router;
    }

    private static JsonObject configJson(BerthConfig config) {
        return new JsonObject()
                .put("source", config.source().toString())
                .put("version", config.version())
                .put("text", config.text());
    }

    private static JsonObject versionsJson(Sessions.Versions versions) {
        JsonArray routes = new JsonArray();
        for (RouteConfig route : versions.routes()) {
            JsonObject json = new JsonObject()
                    .put("name", route.name())
                    .put("path", route.path())
                    .put("version", route.version())
                    .put(
                            "sessions",
                            new JsonObject(
                                    new java.util.HashMap<>(versions.live().getOrDefault(route.name(), Map.of()))));
            versions.canaries().stream()
                    .filter(canary -> canary.route().equals(route.name()))
                    .findFirst()
                    .ifPresent(canary -> json.put(
                            "canary",
                            new JsonObject()
                                    .put("version", canary.canaryVersion())
                                    .put("weightPercent", canary.weightPercent())
                                    .put("braked", canary.brakedBecause() != null)
                                    .put("brakedBecause", canary.brakedBecause())
                                    .put("stable", tally(canary.stable()))
                                    .put("canary", tally(canary.canary()))));
            routes.add(json);
        }
        JsonArray draining = new JsonArray();
        versions.draining()
                .forEach(drain -> draining.add(new JsonObject()
                        .put("route", drain.route())
                        .put("version", drain.version())
                        .put("sessions", drain.sessions())
                        .put(
                                "deadline",
                                drain.deadline() == null
                                        ? null
                                        : drain.deadline().toString())));
        return new JsonObject().put("routes", routes).put("draining", draining);
    }

    private static JsonObject tally(Canaries.Tally tally) {
        return new JsonObject()
                .put("started", tally.started())
                .put("failed", tally.failed())
                .put("firstFrameMedianMs", tally.firstFrameMedianMs());
    }

    private static void answer(RoutingContext ctx, Future<JsonObject> body) {
        body.onSuccess(ctx::json).onFailure(ctx::fail);
    }

    private static JsonObject admissions(boolean paused) {
        return new JsonObject().put("admissions", paused ? "paused" : "open");
    }

    private static JsonObject json(SessionSnapshot session) {
        return new JsonObject()
                .put("key", session.key())
                .put("route", session.route())
                .put("version", session.version())
                .put("state", session.state().name().toLowerCase(Locale.ROOT))
                .put("ageSeconds", session.ageSeconds())
                .put("bytesFromClient", session.fromClient())
                .put("bytesToClient", session.toClient())
                .put("client", session.client())
                .put("user", session.user());
    }
}
