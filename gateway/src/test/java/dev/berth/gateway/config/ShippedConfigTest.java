package dev.berth.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * config/berth.yaml says every value it shows is the default unless its comment says
 * "(default: ...)", and that keys marked required are: each key line is taken out in turn and the
 * file loaded again, which must give the same config (the value shown was the default), a
 * different one (the line said what the default is), or an error (the line said it is required).
 */
class ShippedConfigTest {

    private static final Path SHIPPED = TestGateway.ROOT.resolve("config/berth.yaml");
    /** A key with a value on its line: {@code key: value}, not a mapping that opens below it. */
    private static final Pattern LEAF = Pattern.compile("^\\s*(- )?[A-Za-z]+: *[^#\\s].*");

    /** The config as loaded, without what names the file itself. */
    private record Loaded(Object listen, Object launcher, Object docker, Object sessions, Object admin, Object routes) {
        static Loaded of(BerthConfig config) {
            return new Loaded(
                    config.listen(),
                    config.launcher(),
                    config.docker(),
                    config.sessions(),
                    config.admin(),
                    config.routes());
        }
    }

    private static Loaded load(List<String> lines) throws Exception {
        Path copy = SHIPPED.resolveSibling(
                "shipped-config-test-" + ProcessHandle.current().pid() + ".yaml");
        try {
            Files.write(copy, lines); // beside the original: its relative paths mean the same
            return Loaded.of(ConfigLoader.load(copy));
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    /** The line's own comment and the comment lines right above it. */
    private static String comments(List<String> lines, int index) {
        StringBuilder text = new StringBuilder(
                lines.get(index).contains("#")
                        ? lines.get(index).substring(lines.get(index).indexOf('#'))
                        : "");
        for (int above = index - 1; above >= 0 && lines.get(above).trim().startsWith("#"); above--) {
            text.append(' ').append(lines.get(above));
        }
        return text.toString();
    }

    @Test
    void everyValueShownIsTheDefaultUnlessItsCommentSaysOtherwise() throws Exception {
        List<String> lines = Files.readAllLines(SHIPPED);
        Loaded shipped = load(lines);
        List<String> checked = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!LEAF.matcher(line).matches() || line.trim().startsWith("- ")) {
                continue; // comments, mappings that open below, and a route's first key (its list item)
            }
            List<String> without = new ArrayList<>(lines);
            without.remove(i);
            String comment = comments(lines, i);
            String key = line.trim().substring(0, line.trim().indexOf(':'));
            try {
                Loaded loaded = load(without);
                if (comment.contains("(default: ")) {
                    assertNotEquals(
                            shipped,
                            loaded,
                            "line " + (i + 1) + " says its value is not the default, but it is: " + line);
                } else {
                    assertEquals(
                            shipped, loaded, "line " + (i + 1) + " shows a value that is not the default: " + line);
                }
            } catch (ConfigException required) {
                assertTrue(
                        comment.contains("required"),
                        "line " + (i + 1) + " (" + key + ") is required but not marked so: " + required.getMessage());
            }
            checked.add(key);
        }
        assertTrue(checked.size() > 40, "every key line was looked at: " + checked);
    }
}
