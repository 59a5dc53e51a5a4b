package dev.berth.gateway.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One GET /metrics of the gateway under test, read as name + labels → value. */
final class GatewayMetricsScrape {

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final Map<String, Double> samples = new HashMap<>();

    private GatewayMetricsScrape() {}

    /** Scrapes {@code http://127.0.0.1:<port>/metrics}. */
    static GatewayMetricsScrape of(int port) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET /metrics answered " + response.statusCode());
        }
        GatewayMetricsScrape scrape = new GatewayMetricsScrape();
        for (String line : response.body().split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.find()) {
                continue;
            }
            StringBuilder key = new StringBuilder(m.group(1));
            if (m.group(3) != null) {
                Map<String, String> labels = new java.util.TreeMap<>();
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
                labels.forEach((k, v) -> key.append('|').append(k).append('=').append(v));
            }
            try {
                scrape.samples.put(key.toString(), Double.parseDouble(m.group(4)));
            } catch (NumberFormatException ignored) {
                // not a sample line
            }
        }
        return scrape;
    }

    /** The value of {@code name} for {@code route} (plus {@code extra} labels as k=v, in name order); NaN if absent. */
    double value(String name, String route, String... extra) {
        Map<String, String> labels = new java.util.TreeMap<>();
        labels.put("route", route);
        for (String kv : extra) {
            int eq = kv.indexOf('=');
            labels.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        StringBuilder key = new StringBuilder(name);
        labels.forEach((k, v) -> key.append('|').append(k).append('=').append(v));
        return samples.getOrDefault(key.toString(), Double.NaN);
    }

    /** berth_pool_idle of {@code route}; -1 when the gateway does not report it. */
    int poolIdle(String route) {
        double idle = value("berth_pool_idle", route);
        return Double.isNaN(idle) ? -1 : (int) idle;
    }
}
