package dev.berth.gateway.edge;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.EngineStatus;
import dev.berth.gateway.session.SessionMeter;
import dev.berth.gateway.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the one stable URL serves: the feed page at {@code /} and its resume client at
 * {@code /berth.js}, a websocket endpoint per route, {@code /health} and {@code /metrics}. Backend addresses never appear in any answer.
 */
public final class EdgeRouter {

    /** The edge server's two handlers: every connection is guarded, then its requests routed. */
    public record Handlers(Handler<HttpConnection> connections, Handler<HttpServerRequest> requests) {}

    private final Vertx vertx;
    private final BerthConfig config;
    private final Sessions registry;
    private final SessionMeter sessions;
    /** Null when the admin port serves {@code /metrics} instead. */
    private final Handler<RoutingContext> metricsPage;

    private final String launcherName;
    /** Shared by all the edge's loops, so its connection limit holds for the gateway. */
    private final ConnectionGuard guard;

    private final SessionWebSocketHandler.Edge edge;
    /** The websocket handler of each route's path; swapped whole when a reload changes the routes. */
    private volatile Map<String, SessionWebSocketHandler> websockets;

    /** @param metricsPage what answers {@code /metrics} here, or null where the admin port serves it */
    public EdgeRouter(
            Vertx vertx,
            BerthConfig config,
            Sessions registry,
            SessionMeter sessions,
            ConnectionMeter connections,
            Handler<RoutingContext> metricsPage,
            String launcherName) {
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.sessions = sessions;
        this.metricsPage = metricsPage;
        this.launcherName = launcherName;
        TrustedProxies proxies = new TrustedProxies(config.listen());
        this.guard = new ConnectionGuard(vertx, config.listen(), connections, proxies);
        this.edge = new SessionWebSocketHandler.Edge(
                proxies, new OriginPolicy(config.listen().allowedOrigins()), new SignIn(vertx, config.auth()));
        routesChanged(config.routes());
    }

    /** Gets ready to take requests: the sign-in's keys are loaded (auth.jwt). */
    public Future<Void> start() {
        return edge.signIn().start();
    }

    /** Stops what runs in the background (the JWKS refresh). */
    public void stop() {
        edge.signIn().stop();
    }

    /** Serves {@code routes} from now on: new paths are taken, removed ones answer 404 (their sessions go on). */
    public void routesChanged(List<RouteConfig> routes) {
        Map<String, SessionWebSocketHandler> next = new HashMap<>();
        for (RouteConfig route : routes) {
            next.put(route.path(), new SessionWebSocketHandler(route, registry, sessions, edge));
        }
        websockets = Map.copyOf(next);
    }

    /** The handlers for one of the edge's loops: each loop routes with its own router. */
    public Handlers handlers() {
        Router router = router(vertx, config, registry, metricsPage, launcherName);
        // Websocket routes bypass the router: its request wrapper would wrap the websocket too, hiding
        // the channel the pipe answers protocol errors on.
        return new Handlers(guard::connected, guard.guarding(request -> {
            SessionWebSocketHandler websocket =
                    request.method() == HttpMethod.GET ? websockets.get(request.path()) : null;
            if (websocket != null) {
                websocket.handle(request);
            } else {
                router.handle(request);
            }
        }));
    }

    private static Router router(
            Vertx vertx,
            BerthConfig config,
            Sessions registry,
            Handler<RoutingContext> metricsPage,
            String launcherName) {
        Router router = Router.router(vertx);
        String page = resource("/web/index.html")
                .replace("{{WS_PATH}}", config.routes().get(0).path());
        String client = resource("/web/berth.js");
        router.get("/")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "text/html; charset=utf-8")
                        .end(page));
        router.get("/berth.js")
                .handler(ctx -> ctx.response()
                        .putHeader("Content-Type", "text/javascript; charset=utf-8")
                        .putHeader("Cache-Control", "no-cache")
                        .end(client));
        router.get("/health")
                .handler(ctx -> registry.countByState()
                        .onSuccess(counts -> {
                            JsonObject states = new JsonObject();
                            counts.forEach(
                                    (state, count) -> states.put(state.name().toLowerCase(Locale.ROOT), count));
                            EngineStatus engine = registry.engine();
                            JsonObject engineJson =
                                    new JsonObject().put("state", engine.state().tag());
                            if (!engine.detail().isEmpty()) {
                                engineJson.put("detail", engine.detail());
                            }
                            ctx.json(new JsonObject()
                                    .put("status", "UP")
                                    .put("launcher", launcherName)
                                    .put("engine", engineJson)
                                    .put(
                                            "sessions",
                                            counts.values().stream()
                                                    .mapToInt(Integer::intValue)
                                                    .sum())
                                    .put("states", states));
                        })
                        .onFailure(ctx::fail));
        // Liveness: the process answers. Readiness: it takes new connections (503 while it drains).
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(ctx -> {
            if (registry.accepting()) {
                ctx.json(new JsonObject().put("status", "READY"));
            } else {
                ctx.response().setStatusCode(503).putHeader("Retry-After", String.valueOf(Failure.RETRY_AFTER_SECONDS));
                ctx.json(new JsonObject().put("status", "DRAINING"));
            }
        });
        if (metricsPage != null) {
            router.get("/metrics").handler(metricsPage);
        }
        return router;
    }

    private static String resource(String name) {
        try (InputStream in = EdgeRouter.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the gateway jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
