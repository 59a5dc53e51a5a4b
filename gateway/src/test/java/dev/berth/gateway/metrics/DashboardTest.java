package dev.berth.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Grafana dashboard in docs/ queries only series a real gateway publishes. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DashboardTest {

    private static final Pattern SERIES = Pattern.compile("berth_[a-z_]+");

    @Test
    void everySeriesTheDashboardQueriesIsPublished(Vertx vertx) throws Exception {
        JsonObject dashboard =
                new JsonObject(Files.readString(TestGateway.ROOT.resolve("docs/grafana/berth-dashboard.json")));
        Set<String> queried = new TreeSet<>();
        JsonArray panels = dashboard.getJsonArray("panels");
        for (int i = 0; i < panels.size(); i++) {
            JsonArray targets = panels.getJsonObject(i).getJsonArray("targets");
            for (int t = 0; t < targets.size(); t++) {
                Matcher series = SERIES.matcher(targets.getJsonObject(t).getString("expr"));
                while (series.find()) {
                    queried.add(series.group());
                }
            }
        }
        assertTrue(queried.size() >= 10, "the dashboard queries " + queried);

        FakeLauncher launcher = new FakeLauncher(vertx, Duration.ZERO);
        try (TestGateway gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .route("pool: {size: 1}")
                .route("canary: {version: trial, weight: 0}")
                .start(vertx)) {
            String metrics;
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                client.hello();
                long giveUp = System.nanoTime() + 5_000_000_000L;
                do { // the version gauges are set every second
                    Thread.sleep(100);
                    metrics = gateway.get("/metrics");
                } while (!metrics.contains("berth_sessions_by_version{") && System.nanoTime() < giveUp);
            }
            for (String name : queried) {
                assertTrue(
                        Pattern.compile("(?m)^" + name + "[{ ]")
                                .matcher(metrics)
                                .find(),
                        "the dashboard queries " + name + ", which /metrics does not have");
            }
        }
    }
}
