package dev.berth.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML node that knows its file and key path, so every typed read can fail with a message that
 * names both. Reads are strict: unknown keys are errors (a typo must not silently fall back to a
 * default).
 */
final class ConfigNode {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg]i?b?|b)?", Pattern.CASE_INSENSITIVE);

    private final String file;
    private final String path;
    private final JsonNode node;

    ConfigNode(String file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    String path() {
        return path;
    }

    ConfigException error(String problem, String fix) {
        return ConfigException.at(file, path, problem, fix);
    }

    /** An error about another key of the same file, e.g. a clash found after reading a list. */
    ConfigException errorAt(String key, String problem, String fix) {
        return ConfigException.at(file, key, problem, fix);
    }

    ConfigNode child(String key) {
        String childPath = path.isEmpty() ? key : path + "." + key;
        JsonNode value = node == null ? null : node.get(key);
        return new ConfigNode(file, childPath, value == null || value.isNull() ? null : value);
    }

    boolean present() {
        return node != null;
    }

    /** Fails when the mapping holds a key not in {@code known}: catches typos such as 'timout'. */
    ConfigNode onlyKeys(Set<String> known) {
        if (node == null) {
            return this;
        }
        if (!node.isObject()) {
            throw error("expected a mapping of keys, found " + describe(node), "write it as 'key: value' lines");
        }
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                throw child(name)
                        .error(
                                "unknown key",
                                "use one of "
                                        + String.join(
                                                ", ", known.stream().sorted().toList()));
            }
        }
        return this;
    }

    String string(String fallback) {
        if (node == null) {
            return fallback;
        }
        if (!node.isValueNode() || node.isBoolean()) {
            throw error(
                    "expected a text value, found " + describe(node),
                    "write a plain value such as " + path + ": value");
        }
        String text = node.asText().trim();
        if (text.isEmpty()) {
            throw error("is empty", "give it a value or remove the key to use the default");
        }
        return text;
    }

    String requiredString(String example) {
        if (node == null) {
            throw error("is missing", "add it, e.g. " + example);
        }
        return string(null);
    }

    boolean bool(boolean fallback) {
        if (node == null) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw error(
                    "expected true or false, found " + describe(node),
                    "write " + path + ": true or " + path + ": false");
        }
        return node.booleanValue();
    }

    /** The keys of a mapping (none when absent), for maps whose keys are the user's own names. */
    List<String> keys() {
        if (node == null) {
            return List.of();
        }
        if (!node.isObject()) {
            throw error("expected a mapping of keys, found " + describe(node), "write it as 'NAME: value' lines");
        }
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    int integer(int fallback, int min, int max) {
        if (node == null) {
            return fallback;
        }
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw error("expected a whole number, found " + describe(node), "use a number from " + min + " to " + max);
        }
        return inRange(node.asInt(), min, max);
    }

    double decimal(double fallback, double min, double max) {
        if (node == null) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw error("expected a number, found " + describe(node), "use a number from " + min + " to " + max);
        }
        double value = node.asDouble();
        if (value < min || value > max) {
            throw error(value + " is out of range", "use a number from " + min + " to " + max);
        }
        return value;
    }

    Duration duration(Duration fallback, Duration min, Duration max) {
        if (node == null) {
            return fallback;
        }
        Duration value;
        try {
            value = node.isTextual() ? Durations.parse(node.asText(), null) : null;
        } catch (IllegalArgumentException notADuration) {
            value = null;
        }
        if (value == null) {
            throw error(
                    "'" + node.asText() + "' is not a duration", "write a number with a unit: 500ms, 10s, 5m or 1h");
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw error(
                    node.asText() + " is out of range",
                    "use a duration from " + min.toMillis() + "ms to " + max.toSeconds() + "s");
        }
        return value;
    }

    /** A byte size such as 128m, 1MiB or 65536; binary units (1k = 1024). */
    long bytes(long fallback, long min, long max) {
        if (node == null) {
            return fallback;
        }
        Matcher m = SIZE.matcher(node.asText().trim());
        if (!(node.isTextual() || node.isIntegralNumber()) || !m.matches()) {
            throw error(
                    "'" + node.asText() + "' is not a size",
                    "write bytes or a number with a unit: 65536, 512k, 128m, 1g");
        }
        long amount = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        long value = switch (unit.charAt(0)) {
            case 'k' -> amount << 10;
            case 'm' -> amount << 20;
            case 'g' -> amount << 30;
            default -> amount;
        };
        if (value < min || value > max) {
            throw error(node.asText() + " is out of range", "use a size from " + min + " to " + max + " bytes");
        }
        return value;
    }

    <T> List<T> list(Function<ConfigNode, T> element) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            throw error("expected a list, found " + describe(node), "write it as a YAML list ('- item' lines)");
        }
        List<T> result = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            result.add(element.apply(new ConfigNode(file, path + "[" + i + "]", node.get(i))));
        }
        return List.copyOf(result);
    }

    <E extends Enum<E>> E choice(Class<E> type, E fallback) {
        String text = string(null);
        if (text == null) {
            return fallback;
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(text)) {
                return constant;
            }
        }
        List<String> allowed = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            allowed.add(constant.name().toLowerCase(Locale.ROOT));
        }
        throw error("'" + text + "' is not a valid choice", "use one of " + String.join(", ", allowed));
    }

    private int inRange(int value, int min, int max) {
        if (value < min || value > max) {
            throw error(value + " is out of range", "use a number from " + min + " to " + max);
        }
        return value;
    }

    private static String describe(JsonNode value) {
        if (value.isObject()) {
            return "a mapping";
        }
        if (value.isArray()) {
            return "a list";
        }
        return "'" + value.asText() + "'";
    }
}
