package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.admin.AdminApi;
import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.ConfigReloader;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/reference/endpoints.md against a running gateway (on the fake launcher, its route with a
 * canary that takes every new session, so a version can be drained): each request of the page is
 * sent in each case this test knows, and the statuses seen for it must be the ones its row lists.
 * The routes themselves come from the code: the admin API's router ({@code getRoutes()}) and, for
 * the public listener, whose router is private, the {@code router.get("…")} calls of
 * {@code EdgeRouter}'s source plus the routes' websocket path; each must have its row, and each row
 * must be one of them. The page's prose about every admin call (401 with an empty body without a
 * token, 403 for the read-only token on anything but a GET, 404 for any other path) is checked too.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EndpointsReferenceTest extends FakeLauncherGatewayTest {

    private static final Pattern STATUS = Pattern.compile("\\b[1-5]\\d\\d\\b");
    private static final Pattern EDGE_ROUTE = Pattern.compile("router\\.(get|post|put|delete|patch)\\(\"([^\"]+)\"\\)");
    /** The row of the routes' websocket paths. */
    private static final String WEBSOCKET = "GET {routes[].path}";

    private final HttpClient http = HttpClient.newHttpClient();
    /** The statuses seen on each listener, by the page's name of the request, e.g. "DELETE /sessions/{key}". */
    private final Map<String, Set<Integer>> seenPublic = new TreeMap<>();

    private final Map<String, Set<Integer>> seenAdmin = new TreeMap<>();

    @Test
    void everyRequestAnswersTheStatusesOfItsRowAndEveryRouteHasItsRow() throws Exception {
        gateway = gatewayOn().route("canary: {version: trial, weight: 100}").start(vertx);
        FakeLauncher otherLauncher = new FakeLauncher(vertx, Duration.ZERO);
        try (TestGateway metricsOnAdmin = TestGateway.with((v, config, watch) -> Future.succeededFuture(otherLauncher))
                .admin("metrics: true")
                .start(vertx)) {
            see(seenPublic, "GET /metrics", send(metricsOnAdmin.port, "GET", "/metrics", null));
            see(
                    seenAdmin,
                    "GET /metrics",
                    send(metricsOnAdmin.adminPort, "GET", "/metrics", metricsOnAdmin.adminToken));
        }
        assertEquals(0, otherLauncher.running(), "backends left running by the gateway with admin.metrics");

        int edge = gateway.port;
        for (String path : List.of("/", "/berth.js", "/health", "/health/live", "/health/ready", "/metrics")) {
            see(seenPublic, "GET " + path, send(edge, "GET", path, null));
        }
        see(seenPublic, WEBSOCKET, send(edge, "GET", "/ws", null)); // a plain request: 426
        assertEquals(404, send(edge, "GET", "/no-such-path", null).statusCode(), "the public listener's other paths");

        try (FrameClient client = FrameClient.connect(vertx, edge, null)) { // 101, or it throws
            seenPublic.computeIfAbsent(WEBSOCKET, k -> new TreeSet<>()).add(101);
            client.hello();
            adminCalls();
            assertEquals(4003, client.awaitClose(), "the client of the session DELETE /sessions/{key} ended");
        }

        gateway.verticle.drain(); // as SIGTERM does; no client is attached, so it is over at once
        Await.until(() -> send(edge, "GET", "/health/ready", null).statusCode() == 503, 10_000, "readiness 503");
        see(seenPublic, "GET /health/ready", send(edge, "GET", "/health/ready", null));

        ReferencePage page = ReferencePage.read("endpoints.md");
        List<String> problems = new ArrayList<>();
        compare(page, "Public listener", publicRoutes(), seenPublic, problems);
        compare(page, "Admin listener", adminRoutes(), seenAdmin, problems);
        assertTrue(problems.isEmpty(), page.name() + " and the gateway disagree:\n  " + String.join("\n  ", problems));
    }

    /** Every admin call, in each case of the page, with the full token; then the token rules on every route. */
    private void adminCalls() throws Exception {
        int admin = gateway.adminPort;
        String token = gateway.adminToken;
        HttpResponse<String> sessions = send(admin, "GET", "/sessions", token);
        see(seenAdmin, "GET /sessions", sessions);
        String key = new JsonObject(sessions.body())
                .getJsonArray("sessions")
                .getJsonObject(0)
                .getString("key");
        see(seenAdmin, "GET /admissions", send(admin, "GET", "/admissions", token));
        see(seenAdmin, "POST /admissions/pause", send(admin, "POST", "/admissions/pause", token));
        see(seenAdmin, "POST /admissions/resume", send(admin, "POST", "/admissions/resume", token));
        see(seenAdmin, "GET /config", send(admin, "GET", "/config", token));
        see(seenAdmin, "POST /config/reload", send(admin, "POST", "/config/reload", token));
        String text = Files.readString(gateway.configFile);
        gateway.editConfig(config -> config + "unknownSection: 1\n");
        see(seenAdmin, "POST /config/reload", send(admin, "POST", "/config/reload", token));
        gateway.editConfig(config -> text);
        see(seenAdmin, "GET /routes", send(admin, "GET", "/routes", token));
        String drain = "POST /routes/{route}/versions/{version}/drain";
        String route = "/routes/" + gateway.route + "/versions/";
        see(seenAdmin, drain, send(admin, "POST", route + "trial/drain?deadline=10m", token));
        see(seenAdmin, drain, send(admin, "POST", route + "trial/drain?deadline=soon", token));
        see(seenAdmin, drain, send(admin, "POST", route + "no-such-version/drain", token));
        see(seenAdmin, drain, send(admin, "POST", route + "test/drain", token)); // the route's own version
        see(seenAdmin, "DELETE /sessions", send(admin, "DELETE", "/sessions?user=nobody", token));
        see(seenAdmin, "DELETE /sessions", send(admin, "DELETE", "/sessions", token));
        see(seenAdmin, "DELETE /sessions/{key}", send(admin, "DELETE", "/sessions/" + key, token));
        see(seenAdmin, "DELETE /sessions/{key}", send(admin, "DELETE", "/sessions/" + key, token));
        see(seenAdmin, "GET /metrics", send(admin, "GET", "/metrics", token));
        assertEquals(404, send(admin, "GET", "/no-such-path", token).statusCode(), "the admin listener's other paths");

        for (String request : adminRoutes()) {
            String method = request.substring(0, request.indexOf(' '));
            String path = request.substring(request.indexOf(' ') + 1)
                    .replace("{key}", key)
                    .replace("{route}", gateway.route)
                    .replace("{version}", "trial");
            HttpResponse<String> none = send(admin, method, path, null);
            assertEquals(401, none.statusCode(), request + " without a token");
            assertEquals("", none.body(), request + " without a token: an empty body");
            if (!method.equals("GET")) {
                assertEquals(
                        403,
                        send(admin, method, path, gateway.adminReadOnlyToken).statusCode(),
                        request + " read-only");
            }
        }
        assertEquals(401, send(admin, "GET", "/no-such-path", null).statusCode(), "another path without a token");
        assertEquals(
                200, send(admin, "GET", "/sessions", gateway.adminReadOnlyToken).statusCode(), "a GET, read-only");
    }

    /** Each row of the section names one route and lists the statuses seen for it; every route has a row. */
    private static void compare(
            ReferencePage page,
            String section,
            Set<String> routes,
            Map<String, Set<Integer>> seen,
            List<String> problems) {
        Set<String> documented = new TreeSet<>();
        for (ReferencePage.Row row : page.rows(section)) {
            String request = ReferencePage.code(row.cell(0)).get(0);
            documented.add(request);
            Set<Integer> statuses = new TreeSet<>();
            Matcher status = STATUS.matcher(row.cell(1));
            while (status.find()) {
                statuses.add(Integer.parseInt(status.group()));
            }
            if (!routes.contains(request)) {
                problems.add(section + ": " + request + " is not a route of the gateway: " + row.line());
            } else if (!statuses.equals(seen.getOrDefault(request, Set.of()))) {
                problems.add(section + ": " + request + " answered " + seen.getOrDefault(request, Set.of())
                        + ", the page says " + statuses + ": " + row.line());
            }
        }
        for (String route : routes) {
            if (!documented.contains(route)) {
                problems.add(section + ": the route " + route + " has no row");
            }
        }
    }

    /** The public listener's routes: EdgeRouter's {@code router.get("…")} calls, and the websocket paths. */
    private static Set<String> publicRoutes() throws Exception {
        String source = Files.readString(
                TestGateway.ROOT.resolve("gateway/src/main/java/dev/berth/gateway/edge/EdgeRouter.java"));
        Set<String> routes = new TreeSet<>(Set.of(WEBSOCKET));
        Matcher route = EDGE_ROUTE.matcher(source);
        while (route.find()) {
            routes.add(route.group(1).toUpperCase(java.util.Locale.ROOT) + " " + route.group(2));
        }
        assertTrue(routes.size() >= 7, "EdgeRouter's routes, read from its source: " + routes);
        return routes;
    }

    /** The admin API's routes, from its router: "METHOD /path", a path parameter written {name}. */
    private Set<String> adminRoutes() {
        ConfigReloader configs = new ConfigReloader(
                vertx,
                vertx.getOrCreateContext(),
                ConfigLoader.load(gateway.configFile),
                config -> Future.succeededFuture(""),
                outcome -> {});
        Set<String> routes = new TreeSet<>();
        for (Route route : AdminApi.router(vertx, configs, new AdminApi.Tokens("full", "read"), null, ctx -> {})
                .getRoutes()) {
            if (route.getPath() == null) {
                continue; // the token check, on every path
            }
            for (HttpMethod method : route.methods()) {
                routes.add(method.name() + " " + route.getPath().replaceAll(":(\\w+)", "{$1}"));
            }
        }
        assertTrue(routes.size() >= 11, "the admin API's routes: " + routes);
        return routes;
    }

    private static void see(Map<String, Set<Integer>> seen, String request, HttpResponse<String> response) {
        seen.computeIfAbsent(request, k -> new TreeSet<>()).add(response.statusCode());
    }

    private HttpResponse<String> send(int port, String method, String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " on port " + port + " failed", e);
        }
    }
}
