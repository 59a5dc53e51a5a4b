package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * docs/reference/metrics.md against a real scrape: a gateway (on the fake launcher, with a warm
 * pool and a canary so every conditional series shows) opens and ends a session, then every
 * {@code berth_*} family of its {@code /metrics} has its row, with its type and label names, and
 * every row's family is exposed. Rows marked {@code pending} name series being added: absent is
 * fine, exposed fails (drop the mark). Families of the JVM and the process ({@code jvm_*},
 * {@code process_*}, {@code system_*}) are the binders' and not listed one by one; any other
 * family fails.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsReferenceTest extends FakeLauncherGatewayTest {

    private static final Pattern TYPE = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$");
    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? \\S+");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
    private static final List<String> RUNTIME = List.of("jvm_", "process_", "system_");
    private static final String PENDING = "pending";

    /** A family of the scrape: its type and the label names of its samples ({@code le} left out). */
    private record Family(String type, Set<String> labels) {}

    /** A row of the page: type, label names, and whether it is marked pending. */
    private record Documented(String type, Set<String> labels, boolean pending, String line) {}

    @Test
    void everyBerthFamilyOfAScrapeIsOnThePageAndEveryFamilyOnThePageIsExposed() throws Exception {
        gateway = gatewayOn()
                .route("pool: {size: 1}")
                .route("canary: {version: trial, weight: 0}")
                .start(vertx);
        String scrape;
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            do { // the version gauges are set every second
                Thread.sleep(100);
                scrape = gateway.get("/metrics");
            } while (!scrape.contains("berth_sessions_by_version{") && System.nanoTime() < giveUp);
        } // a close with 1000: the session ends
        Await.until(() -> endedByItsClient(gateway.get("/metrics")), 10_000, "the session ended");
        scrape = gateway.get("/metrics");

        Map<String, Family> exposed = families(scrape);
        Map<String, Documented> documented = documented(ReferencePage.read("metrics.md"));
        List<String> problems = new ArrayList<>();
        exposed.forEach((name, family) -> {
            if (RUNTIME.stream().anyMatch(name::startsWith)) {
                return;
            }
            String row = name;
            if (!name.startsWith("berth_")) {
                problems.add(name + " is neither berth_* nor a JVM or process family");
                return;
            }
            if (name.endsWith("_max") && documented.containsKey(name.substring(0, name.length() - 4))) {
                row = name.substring(0, name.length() - 4); // a timer's maximum, beside its histogram
                if (!documented.get(row).type().equals("histogram")
                        || !family.type().equals("gauge")) {
                    problems.add(name + " is not the _max gauge of a documented histogram");
                }
                return;
            }
            Documented doc = documented.get(row);
            if (doc == null) {
                problems.add(
                        name + " (" + family.type() + ", labels " + family.labels() + ") is exposed but has no row");
            } else if (doc.pending()) {
                problems.add(name + " is exposed now: drop its '" + PENDING + "' mark: " + doc.line());
            } else if (!doc.type().equals(family.type()) || !doc.labels().equals(family.labels())) {
                problems.add(name + " is a " + family.type() + " with labels " + family.labels() + ", the page says "
                        + doc.type() + " with " + doc.labels() + ": " + doc.line());
            }
        });
        documented.forEach((name, doc) -> {
            if (!doc.pending() && !exposed.containsKey(name)) {
                problems.add(name + " is on the page but not exposed: " + doc.line());
            }
        });
        assertTrue(
                problems.isEmpty(),
                "docs/reference/metrics.md and /metrics disagree:\n  " + String.join("\n  ", problems)
                        + "\n(the scrape:\n" + scrape + ")");
    }

    /** Whether the scrape counts a session its client ended (it closed with 1000). */
    private static boolean endedByItsClient(String scrape) {
        return Pattern.compile("(?m)^berth_sessions_ended_total\\{[^}]*reason=\"client_ended\"[^}]*\\} [1-9]")
                .matcher(scrape)
                .find();
    }

    private static Map<String, Family> families(String scrape) {
        Map<String, Family> families = new TreeMap<>();
        Matcher type = TYPE.matcher(scrape);
        while (type.find()) {
            families.put(type.group(1), new Family(type.group(2), new TreeSet<>()));
        }
        assertFalse(families.isEmpty(), "no # TYPE line in the scrape:\n" + scrape);
        Matcher sample = SAMPLE.matcher(scrape);
        while (sample.find()) {
            String name = sample.group(1);
            Family family = families.get(name);
            for (String suffix : List.of("_bucket", "_count", "_sum")) {
                if (family == null && name.endsWith(suffix)) {
                    family = families.get(name.substring(0, name.length() - suffix.length()));
                }
            }
            if (family != null && sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    if (!label.group(1).equals("le")) {
                        family.labels().add(label.group(1));
                    }
                }
            }
        }
        return families;
    }

    /** The page's rows: | `name` | type | `label`, … | meaning | appears when |. */
    private static Map<String, Documented> documented(ReferencePage page) {
        Map<String, Documented> rows = new TreeMap<>();
        for (ReferencePage.Row row : page.rows()) {
            List<String> name = ReferencePage.code(row.cell(0));
            assertEquals(1, name.size(), "a row of " + page.name() + " names one family: " + row.line());
            assertTrue(
                    name.get(0).startsWith("berth_"),
                    "a row of " + page.name() + " is a berth_* family: " + row.line());
            Documented doc = new Documented(
                    row.cell(1),
                    new TreeSet<>(ReferencePage.code(row.cell(2))),
                    row.cell(4).contains(PENDING),
                    row.line());
            assertTrue(rows.put(name.get(0), doc) == null, page.name() + " has two rows for " + name.get(0));
        }
        assertTrue(rows.size() >= 20, page.name() + " lists " + rows.keySet());
        return rows;
    }
}
