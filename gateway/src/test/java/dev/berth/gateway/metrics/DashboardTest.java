package dev.berth.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Grafana dashboard in docs/: it queries only series a real gateway publishes, narrows every
 * series that has a route to the {@code $route} variable, has a panel for each shipped alert, and
 * gives each panel one unit that fits all it shows.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DashboardTest {

    private static final Pattern SERIES = Pattern.compile("\\b((?:berth|jvm|process|system)_[a-z_]+)");

    /** What a query's values are, read from its form and its series' names (Prometheus naming). */
    enum Kind {
        SECONDS(Set.of("s", "ms")),
        PER_SECOND(Set.of("ops", "reqps", "cps")),
        BYTES_PER_SECOND(Set.of("Bps", "binBps")),
        BYTES(Set.of("bytes", "decbytes")),
        RATIO(Set.of("percentunit", "percent")),
        COUNT(Set.of("short", "none"));

        final Set<String> units;

        Kind(Set<String> units) {
            this.units = units;
        }

        static Kind of(String expr) {
            String series = firstSeries(expr);
            if (expr.contains("histogram_quantile(")) {
                return SECONDS;
            }
            if (expr.contains(" / ")) {
                return RATIO;
            }
            if (expr.contains("rate(")) {
                return series.endsWith("_bytes_total") ? BYTES_PER_SECOND : PER_SECOND;
            }
            if (expr.contains("increase(")) {
                return COUNT;
            }
            if (series.endsWith("_bytes")) {
                return BYTES;
            }
            if (series.endsWith("_seconds") || series.endsWith("_seconds_max")) {
                return SECONDS;
            }
            return series.endsWith("_usage") ? RATIO : COUNT;
        }

        static Kind ofUnit(String unit) {
            for (Kind kind : values()) {
                if (kind.units.contains(unit)) {
                    return kind;
                }
            }
            throw new AssertionError("unit " + unit + " is none this test knows");
        }
    }

    private record Target(String panel, String expr) {}

    private static JsonObject dashboard() throws IOException {
        return new JsonObject(Files.readString(TestGateway.ROOT.resolve("docs/grafana/berth-dashboard.json")));
    }

    /** The panels that query something (rows do not). */
    private static List<JsonObject> panels(JsonObject dashboard) {
        List<JsonObject> panels = new ArrayList<>();
        JsonArray all = dashboard.getJsonArray("panels");
        for (int i = 0; i < all.size(); i++) {
            if (all.getJsonObject(i).containsKey("targets")) {
                panels.add(all.getJsonObject(i));
            }
        }
        return panels;
    }

    private static List<Target> targets(JsonObject dashboard) {
        List<Target> targets = new ArrayList<>();
        for (JsonObject panel : panels(dashboard)) {
            JsonArray queries = panel.getJsonArray("targets");
            for (int t = 0; t < queries.size(); t++) {
                targets.add(new Target(
                        panel.getString("title"), queries.getJsonObject(t).getString("expr")));
            }
        }
        return targets;
    }

    private static Set<String> series(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher found = SERIES.matcher(expr);
        while (found.find()) {
            names.add(found.group(1));
        }
        return names;
    }

    private static String firstSeries(String expr) {
        Matcher found = SERIES.matcher(expr);
        return found.find() ? found.group(1) : "";
    }

    @Test
    void everySeriesTheDashboardQueriesIsPublishedAndNarrowedToTheChosenRoutes(Vertx vertx) throws Exception {
        JsonObject dashboard = dashboard();
        Set<String> queried = new TreeSet<>();
        targets(dashboard).forEach(target -> queried.addAll(series(target.expr())));
        assertTrue(queried.size() >= 10, "the dashboard queries " + queried);

        FakeLauncher launcher = new FakeLauncher(vertx, Duration.ZERO);
        String metrics;
        try (TestGateway gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .route("pool: {size: 1}")
                .route("canary: {version: trial, weight: 0}")
                .start(vertx)) {
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                client.hello();
                // GC pause timers appear with the first collection seen after the gateway started.
                System.gc();
                long giveUp = System.nanoTime() + 5_000_000_000L;
                do { // the version gauges are set every second
                    Thread.sleep(100);
                    metrics = gateway.get("/metrics");
                } while ((!metrics.contains("berth_sessions_by_version{") || !metrics.contains("jvm_gc_pause_seconds"))
                        && System.nanoTime() < giveUp);
            }
        }
        for (String name : queried) {
            assertTrue(
                    Pattern.compile("(?m)^" + name + "[{ ]").matcher(metrics).find(),
                    "the dashboard queries " + name + ", which /metrics does not have");
        }

        JsonObject route = null;
        JsonArray variables = dashboard.getJsonObject("templating").getJsonArray("list");
        for (int i = 0; i < variables.size(); i++) {
            if ("route".equals(variables.getJsonObject(i).getString("name"))) {
                route = variables.getJsonObject(i);
            }
        }
        assertNotNull(route, "a route template variable");
        assertEquals("query", route.getString("type"));
        assertTrue(
                route.getString("query").matches("label_values\\(berth_[a-z_]+\\{job=~\"\\$job\"}, route\\)"),
                "" + route);
        assertTrue(route.getBoolean("multi") && route.getBoolean("includeAll"), "pick one, some or all routes");

        Set<String> withRoute = new TreeSet<>();
        for (String name : queried) {
            if (Pattern.compile("(?m)^" + name + "\\{[^}]*\\broute=\"")
                    .matcher(metrics)
                    .find()) {
                withRoute.add(name);
            }
        }
        assertTrue(withRoute.contains("berth_refusals_total"), "" + withRoute);
        for (Target target : targets(dashboard)) {
            for (String name :
                    series(target.expr()).stream().filter(withRoute::contains).toList()) {
                Matcher selector =
                        Pattern.compile("\\b" + name + "(\\{[^}]*})?").matcher(target.expr());
                while (selector.find()) {
                    assertTrue(
                            selector.group(1) != null && selector.group(1).contains("route=~\"$route\""),
                            "panel " + target.panel() + ": " + name + " has a route label, so its selector needs "
                                    + "route=~\"$route\": " + target.expr());
                }
            }
        }
    }

    @Test
    void everyShippedAlertHasAPanelThatReadsWhatItReads() throws IOException {
        List<JsonObject> panels = panels(dashboard());
        for (AlertRules.Rule rule : AlertRules.shipped()) {
            List<JsonObject> its = panels.stream()
                    .filter(panel -> panel.getString("title").startsWith(rule.alert() + ":"))
                    .toList();
            assertEquals(1, its.size(), "one panel titled \"" + rule.alert() + ": …\"");
            Set<String> read = new TreeSet<>();
            JsonArray queries = its.get(0).getJsonArray("targets");
            for (int t = 0; t < queries.size(); t++) {
                read.addAll(series(queries.getJsonObject(t).getString("expr")));
            }
            assertTrue(
                    read.containsAll(AlertRules.series(rule.expr())),
                    rule.alert() + " reads " + AlertRules.series(rule.expr()) + "; its panel " + read);
        }
    }

    @Test
    void everyPanelHasOneUnitThatFitsEachOfItsQueries() throws IOException {
        for (JsonObject panel : panels(dashboard())) {
            JsonObject fields = panel.getJsonObject("fieldConfig");
            String unit = fields.getJsonObject("defaults").getString("unit");
            assertNotNull(unit, panel.getString("title") + " has a unit");
            Kind kind = Kind.ofUnit(unit);
            for (Object override : fields.getJsonArray("overrides", new JsonArray())) {
                assertTrue(
                        !override.toString().contains("\"unit\""),
                        panel.getString("title") + ": no override sets a unit of its own: " + override);
            }
            JsonArray queries = panel.getJsonArray("targets");
            for (int t = 0; t < queries.size(); t++) {
                String expr = queries.getJsonObject(t).getString("expr");
                assertEquals(
                        kind,
                        Kind.of(expr),
                        panel.getString("title") + " shows " + unit + " but queries " + Kind.of(expr) + ": " + expr);
            }
        }
        assertEquals(
                Set.of(Kind.values()),
                Set.copyOf(panels(dashboard()).stream()
                        .map(panel -> Kind.ofUnit(panel.getJsonObject("fieldConfig")
                                .getJsonObject("defaults")
                                .getString("unit")))
                        .toList()),
                "seconds, rates, byte rates, bytes, ratios and counts each have their panels");
    }

    /** The alert panels' thresholds are the rules' own, so a line on the panel is where the alert starts. */
    @Test
    void alertPanelsDrawTheirRulesThresholds() throws IOException {
        Map<String, JsonObject> byAlert = new java.util.HashMap<>();
        for (JsonObject panel : panels(dashboard())) {
            String title = panel.getString("title");
            if (title.startsWith("Berth") && title.contains(":")) {
                byAlert.put(title.substring(0, title.indexOf(':')), panel);
            }
        }
        for (AlertRules.Rule rule : AlertRules.shipped()) {
            JsonObject thresholds = byAlert.get(rule.alert())
                    .getJsonObject("fieldConfig")
                    .getJsonObject("defaults")
                    .getJsonObject("thresholds");
            if (thresholds == null) {
                continue; // a condition, not a threshold (the pool: idle 0 while the target is above)
            }
            JsonArray steps = thresholds.getJsonArray("steps");
            double line = steps.getJsonObject(steps.size() - 1).getDouble("value");
            Matcher compared = Pattern.compile("(>=?|==)\\s*([0-9.]+)").matcher(rule.expr());
            assertTrue(compared.find(), rule.alert() + " compares with a number: " + rule.expr());
            assertEquals(Double.parseDouble(compared.group(2)), line, rule.alert() + "'s panel draws its threshold");
        }
    }
}
