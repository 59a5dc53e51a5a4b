package dev.berth.gateway.metrics;

import dev.berth.gateway.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/** The alerting rules shipped in deploy/prometheus/berth-alerts.yml, read as Prometheus reads them. */
final class AlertRules {

    static final Path FILE = TestGateway.ROOT.resolve("deploy/prometheus/berth-alerts.yml");

    /** One alerting rule. */
    record Rule(
            String alert,
            String expr,
            String forDuration,
            Map<String, String> labels,
            Map<String, String> annotations) {}

    private static final Pattern SERIES = Pattern.compile("\\b(berth_[a-z_]+)");
    /** A label matcher: {@code name="value"} or {@code name=~"a|b"} (negative matchers name no value to check). */
    private static final Pattern MATCHER = Pattern.compile("\\b([a-z_]+)=~?\"([^\"]*)\"");

    private static final Pattern FOR = Pattern.compile("(?m)^(\\s+for:\\s*)\\S+\\s*$");

    private AlertRules() {}

    static String text() throws IOException {
        return Files.readString(FILE);
    }

    static List<Rule> shipped() throws IOException {
        return parse(text());
    }

    /** The alerting rules of a rules file's text. */
    @SuppressWarnings("unchecked")
    static List<Rule> parse(String text) {
        Map<String, Object> file = new Yaml().load(text);
        List<Rule> rules = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                if (rule.containsKey("alert")) {
                    rules.add(new Rule(
                            (String) rule.get("alert"),
                            (String) rule.get("expr"),
                            String.valueOf(rule.get("for")),
                            strings(rule.get("labels")),
                            strings(rule.get("annotations"))));
                }
            }
        }
        return rules;
    }

    /** The rules file with every {@code for:} set to {@code duration}, and nothing else changed. */
    static String withFor(String text, String duration) {
        return FOR.matcher(text).replaceAll("$1" + duration);
    }

    /** The gateway's series an expression reads, e.g. berth_refusals_total. */
    static Set<String> series(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher found = SERIES.matcher(expr);
        while (found.find()) {
            names.add(found.group(1));
        }
        return names;
    }

    /** The label values an expression matches on, e.g. reason → [capacity, gateway_full]. */
    static Map<String, Set<String>> matchedValues(String expr) {
        Map<String, Set<String>> values = new LinkedHashMap<>();
        Matcher found = MATCHER.matcher(expr);
        while (found.find()) {
            values.computeIfAbsent(found.group(1), label -> new TreeSet<>())
                    .addAll(List.of(found.group(2).split("\\|")));
        }
        return values;
    }

    private static Map<String, String> strings(Object map) {
        Map<String, String> strings = new LinkedHashMap<>();
        if (map instanceof Map<?, ?> entries) {
            entries.forEach((key, value) -> strings.put(String.valueOf(key), String.valueOf(value)));
        }
        return strings;
    }
}
