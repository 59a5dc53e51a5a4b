package dev.berth.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.berth.gateway.ReferencePage;
import dev.berth.gateway.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/reference/config.md names every key the config loader accepts, and no other.
 *
 * <p>The keys are asked of the loader itself, not copied from it: a valid config with one mapping
 * given an unknown key ({@value #PROBE}) is refused with "unknown key. Fix: use one of …", which
 * lists what that mapping accepts; each of those keys is then given a mapping in turn, and the ones
 * whose mapping is refused the same way are mappings to explore in their turn (a list is explored
 * through its first element; a key that takes a mapping of any keys, such as {@code routes[].env},
 * loads as it is). Mappings the loader only reads in some configurations get what they need from
 * {@link #NEEDS}. So that none is missed, the key sets found must be exactly the {@code
 * onlyKeys(Set.of(...))} sets written in the loader's sources: a mapping the probe cannot reach
 * fails the test, naming the set.
 */
class ConfigReferenceTest {

    private static final String PROBE = "berthProbe";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern UNKNOWN_KEY =
            Pattern.compile(": key '([^']*)': unknown key\\. Fix: use one of (.+)$", Pattern.DOTALL);
    private static final Pattern NOT_A_LIST = Pattern.compile(": key '([^']*)': expected a list, found a mapping");
    private static final Pattern ONLY_KEYS = Pattern.compile("onlyKeys\\(\\s*Set\\.of\\(([^)]*)\\)\\s*\\)");
    private static final Pattern LITERAL = Pattern.compile("\"([^\"]+)\"");

    /** A config the loader takes as it is; each probe changes one place of it. */
    private static final String BASE = """
            launcher: process
            routes:
              - name: probe
                path: /ws
                process: {command: [java]}
            """;

    /** What a mapping needs, besides the probe, for the loader to reach its key check. */
    private static final Map<String, String> NEEDS = Map.of(
            "auth", "{from: jwt}",
            "log.sessionLogs", "{dir: session-logs}",
            "routes[].canary", "{version: probe-trial}");

    @TempDir
    Path dir;

    /** Every key path the loader accepts, e.g. {@code listen.tls.cert}, {@code routes[].pool.min}. */
    private final Set<String> keys = new TreeSet<>();
    /** The keys each mapping accepts, by its path ("" for the file itself). */
    private final Map<String, Set<String>> mappings = new TreeMap<>();

    @Test
    void everyKeyTheLoaderAcceptsIsOnThePageAndEveryKeyOnThePageIsAccepted() throws Exception {
        explore(List.of());
        Set<Set<String>> unreached = sourceKeySets();
        unreached.removeAll(mappings.values());
        Set<Set<String>> unknown = new HashSet<>(mappings.values());
        unknown.removeAll(sourceKeySets());
        assertTrue(
                unreached.isEmpty() && unknown.isEmpty(),
                "the probe found the mappings " + mappings + ", but not these onlyKeys(Set.of(...)) sets of the"
                        + " loader's sources: " + unreached + " (give the mapping what it needs in NEEDS); key sets"
                        + " not in the sources: " + unknown);

        ReferencePage page = ReferencePage.read("config.md");
        Set<String> documented = new TreeSet<>();
        for (ReferencePage.Row row : page.rows()) {
            List<String> first = ReferencePage.code(row.cell(0));
            assertEquals(1, first.size(), "a row of " + page.name() + " names one key, in backticks: " + row.line());
            assertTrue(documented.add(first.get(0)), page.name() + " has two rows for " + first.get(0));
        }
        Set<String> missing = new TreeSet<>(keys);
        missing.removeAll(documented);
        Set<String> stale = new TreeSet<>(documented);
        stale.removeAll(keys);
        assertTrue(
                missing.isEmpty() && stale.isEmpty(),
                page.name() + " and the loader disagree. Keys the loader accepts that the page does not document: "
                        + missing + "; keys the page documents that the loader refuses: " + stale);
    }

    /** Probes the place {@code at} (field names and list indexes); records it and what it holds. */
    private void explore(List<Object> at) throws Exception {
        String key = docPath(at);
        ConfigException refused = load(at);
        if (refused != null) {
            Matcher unknown = UNKNOWN_KEY.matcher(refused.getMessage());
            if (unknown.find() && unknown.group(1).equals(configPath(at, PROBE))) {
                Set<String> accepted = Arrays.stream(unknown.group(2).trim().split(",\\s*"))
                        .collect(Collectors.toCollection(TreeSet::new));
                mappings.put(key, accepted);
                record(key);
                for (String child : accepted) {
                    explore(Stream.concat(at.stream(), Stream.of(child)).toList());
                }
                return;
            }
            Matcher list = NOT_A_LIST.matcher(refused.getMessage());
            if (list.find() && list.group(1).equals(configPath(at, null))) {
                record(key);
                ConfigException element =
                        load(Stream.concat(at.stream(), Stream.of(0)).toList());
                if (element != null && UNKNOWN_KEY.matcher(element.getMessage()).find()) {
                    explore(Stream.concat(at.stream(), Stream.of(0)).toList());
                }
                return;
            }
        }
        record(key); // a value, or a mapping of the user's own names (it loaded with the probe in it)
    }

    /** A key of the page; not the file itself, nor a list's element ({@code routes[]} is {@code routes}). */
    private void record(String key) {
        if (!key.isEmpty() && !key.endsWith("[]")) {
            keys.add(key);
        }
    }

    /** The base config with a mapping holding the probe at {@code at}; the loader's refusal, or null. */
    private ConfigException load(List<Object> at) throws Exception {
        ObjectNode root = (ObjectNode) YAML.readTree(BASE);
        if (at.isEmpty()) {
            root.put(PROBE, 1);
        }
        JsonNode node = root;
        for (int i = 0; i < at.size(); i++) {
            Object step = at.get(i);
            List<Object> here = at.subList(0, i + 1);
            JsonNode next = step instanceof Integer index ? node.get(index) : node.get((String) step);
            boolean last = i == at.size() - 1;
            JsonNode wanted;
            if (last) {
                ObjectNode probe = next instanceof ObjectNode existing ? existing.deepCopy() : needs(here);
                probe.put(PROBE, 1);
                wanted = probe;
            } else if (at.get(i + 1) instanceof Integer) {
                wanted = next instanceof ArrayNode ? next : YAML.createArrayNode();
            } else {
                wanted = next instanceof ObjectNode ? next : needs(here);
            }
            if (step instanceof Integer index) {
                ArrayNode array = (ArrayNode) node;
                if (index < array.size()) {
                    array.set(index, wanted);
                } else {
                    array.add(wanted);
                }
            } else {
                ((ObjectNode) node).set((String) step, wanted);
            }
            node = wanted;
        }
        Path file = dir.resolve("probe.yaml");
        String text = YAML.writeValueAsString(root);
        Files.writeString(file, text);
        try {
            ConfigLoader.parse(file, file.toString(), text);
            return null;
        } catch (ConfigException refused) {
            return refused;
        }
    }

    private static ObjectNode needs(List<Object> at) throws Exception {
        String need = NEEDS.get(docPath(at));
        return need == null ? YAML.createObjectNode() : (ObjectNode) YAML.readTree(need);
    }

    /** As the page writes it: {@code routes[].pool.min}. */
    private static String docPath(List<Object> at) {
        StringBuilder path = new StringBuilder();
        for (Object step : at) {
            if (step instanceof Integer) {
                path.append("[]");
            } else {
                path.append(path.length() == 0 ? "" : ".").append(step);
            }
        }
        return path.toString();
    }

    /** As the loader names it in an error: {@code routes[0].pool.min}, with {@code child} after it. */
    private static String configPath(List<Object> at, String child) {
        List<Object> all = new ArrayList<>(at);
        if (child != null) {
            all.add(child);
        }
        return docPath(all).replace("[]", "[0]");
    }

    /** The literal sets of every {@code onlyKeys(Set.of(...))} call in the loader's sources. */
    private static Set<Set<String>> sourceKeySets() throws Exception {
        Set<Set<String>> sets = new HashSet<>();
        Path sources = TestGateway.ROOT.resolve("gateway/src/main/java/dev/berth/gateway/config");
        try (Stream<Path> files = Files.list(sources)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher call = ONLY_KEYS.matcher(Files.readString(file));
                while (call.find()) {
                    Set<String> set = new TreeSet<>();
                    Matcher literal = LITERAL.matcher(call.group(1));
                    while (literal.find()) {
                        set.add(literal.group(1));
                    }
                    sets.add(set);
                }
            }
        }
        if (sets.size() < 10) {
            fail("found only " + sets.size() + " onlyKeys(Set.of(...)) calls in " + sources
                    + ": has their form changed?");
        }
        return sets;
    }
}
