package dev.berth.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.Command;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.RawWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shipped alerting rules (deploy/prometheus/berth-alerts.yml) in a real Prometheus scraping a
 * real gateway: promtool accepts the file, every series and label value the rules name is one the
 * gateway publishes, every rule evaluates without error, and a burst of refused upgrades fires
 * BerthSessionsRefused. The rules run as shipped but with every {@code for:} cut to 1s, on a 1 s
 * scrape and evaluation interval. Skipped without Debian's prometheus package.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PrometheusAlertsTest extends FakeLauncherGatewayTest {

    /** Enough refusals within seconds that their rate over 5 minutes passes the rule's 0.1/s. */
    private static final int REFUSALS = 100;

    private static final long FIRING_WITHIN_MS = 60_000;

    @Test
    void refusedUpgradesFireBerthSessionsRefusedInARealPrometheus() throws Exception {
        Optional<Path> prometheus = LocalPrometheus.binary("prometheus");
        Optional<Path> promtool = LocalPrometheus.binary("promtool");
        assumeTrue(
                prometheus.isPresent() && promtool.isPresent(),
                "no prometheus or promtool binary (Debian: apt-get install prometheus; .ci/run does)");

        Command.Result checked =
                Command.run(List.of(promtool.get().toString(), "check", "rules", AlertRules.FILE.toString()), 60);
        assertEquals(0, checked.status(), "promtool check rules " + AlertRules.FILE + ":\n" + checked.output());
        List<AlertRules.Rule> rules = AlertRules.shipped();

        // A warm pool and a canary, so that every series the rules read is there (and healthy).
        gateway = gatewayOn()
                .route("pool: {size: 1}")
                .route("canary: {version: trial, weight: 0}")
                .start(vertx);
        Await.until(
                () -> gateway.get("/metrics").contains("berth_canary_braked{")
                        && gateway.get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                10_000,
                "the pool is full and the version gauges are set (every second)");
        String metrics = gateway.get("/metrics");
        for (AlertRules.Rule rule : rules) {
            assertPublished(rule, metrics);
        }

        String quick = AlertRules.withFor(AlertRules.text(), "1s");
        assertEquals(
                rules.stream().map(AlertRules.Rule::expr).toList(),
                AlertRules.parse(quick).stream().map(AlertRules.Rule::expr).toList(),
                "only the for: durations are cut");
        try (LocalPrometheus server = LocalPrometheus.start(prometheus.get(), quick, "127.0.0.1:" + gateway.port)) {
            assertEquals(
                    rules.size(),
                    server.api("/api/v1/rules").getJsonArray("groups").stream()
                            .mapToInt(group ->
                                    ((JsonObject) group).getJsonArray("rules").size())
                            .sum(),
                    "Prometheus loaded every rule");
            Await.until(() -> scrapeUp(server), 20_000, "Prometheus scrapes the gateway (up == 1)");
            // A sample at 0 first, so that the burst is an increase and not where the series starts.
            Await.until(
                    () -> !results(server, "berth_refusals_total{reason=\"admissions_paused\"}")
                            .isEmpty(),
                    20_000,
                    "the refusals counter is in the TSDB");
            assertTrue(firing(server, alert -> true).isEmpty(), "a healthy gateway fires no alert");

            assertEquals(200, gateway.admin("POST", "/admissions/pause").statusCode());
            for (int i = 0; i < REFUSALS; i++) {
                try (RawWebSocket refused = RawWebSocket.open(gateway.port, Map.of())) {
                    assertEquals(503, refused.status, "admissions are paused");
                }
            }

            long begun = System.nanoTime();
            Predicate<JsonObject> refusals = alert -> {
                JsonObject labels = alert.getJsonObject("labels");
                return "BerthSessionsRefused".equals(labels.getString("alertname"))
                        && gateway.route.equals(labels.getString("route"))
                        && "admissions_paused".equals(labels.getString("reason"))
                        && "warning".equals(labels.getString("severity"));
            };
            Await.until(
                    () -> !firing(server, refusals).isEmpty(),
                    FIRING_WITHIN_MS,
                    "BerthSessionsRefused firing for route " + gateway.route + ", admissions_paused");
            System.out.println("PrometheusAlertsTest: BerthSessionsRefused firing "
                    + (System.nanoTime() - begun) / 1_000_000 + " ms after the burst");
            JsonObject alert = firing(server, refusals).get(0);
            assertTrue(
                    alert.getJsonObject("annotations").getString("summary").contains(gateway.route),
                    "its summary names the route: " + alert);

            assertEquals(
                    List.of(),
                    firing(server, refusals.negate()),
                    "no other alert fires: the gateway is otherwise healthy");
            for (Object group : server.api("/api/v1/rules").getJsonArray("groups")) {
                for (Object rule : ((JsonObject) group).getJsonArray("rules")) {
                    JsonObject evaluated = (JsonObject) rule;
                    assertEquals(
                            "ok",
                            evaluated.getString("health"),
                            evaluated.getString("name") + " evaluates without error: " + evaluated);
                }
            }
        }
    }

    /** Every series a rule reads, and every label value it matches on, is on the gateway's /metrics. */
    private static void assertPublished(AlertRules.Rule rule, String metrics) {
        for (String series : AlertRules.series(rule.expr())) {
            assertTrue(
                    Pattern.compile("(?m)^" + series + "[{ ]").matcher(metrics).find(),
                    rule.alert() + " reads " + series + ", which /metrics does not have");
        }
        AlertRules.matchedValues(rule.expr())
                .forEach((label, values) -> values.forEach(value -> assertTrue(
                        metrics.contains(label + "=\"" + value + "\""),
                        rule.alert() + " matches " + label + "=\"" + value + "\", which /metrics never shows")));
    }

    private static boolean scrapeUp(LocalPrometheus server) {
        try {
            JsonArray targets = server.api("/api/v1/targets").getJsonArray("activeTargets");
            return targets.size() == 1
                    && "up".equals(targets.getJsonObject(0).getString("health"))
                    && results(server, "up{job=\"berth\"} == 1").size() == 1;
        } catch (Exception notYet) {
            return false;
        }
    }

    private static JsonArray results(LocalPrometheus server, String promql) {
        try {
            return server.query(promql).getJsonArray("result");
        } catch (Exception failed) {
            throw new AssertionError("query " + promql + " failed; Prometheus logged:\n" + server.log(), failed);
        }
    }

    /** The alerts firing now that {@code which} accepts. */
    private static List<JsonObject> firing(LocalPrometheus server, Predicate<JsonObject> which) {
        List<JsonObject> alerts = new ArrayList<>();
        try {
            for (Object alert : server.api("/api/v1/alerts").getJsonArray("alerts")) {
                JsonObject one = (JsonObject) alert;
                if ("firing".equals(one.getString("state")) && which.test(one)) {
                    alerts.add(one);
                }
            }
        } catch (Exception failed) {
            throw new AssertionError("GET /api/v1/alerts failed; Prometheus logged:\n" + server.log(), failed);
        }
        return alerts;
    }
}
