package dev.berth.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.ReferencePage;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * docs/reference/cli.md against the two command lines as picocli builds them: {@code ./berth}
 * ({@link BerthCommand}) and the gateway's own ({@code Main.Arguments}). Every command has a row
 * whose first cell is {@code ./berth NAME} and its parameters in order (optional ones in brackets),
 * every row names a command that exists, and every option name of each command line is in its
 * options table, which names no other.
 */
class CliReferenceTest {

    private final ReferencePage page = ReferencePage.read("cli.md");

    @Test
    void everyBerthCommandHasItsRowWithItsParametersAndEveryRowIsACommand() {
        CommandLine berth = new CommandLine(new BerthCommand(quiet(), quiet()));
        Map<String, String> expected = new TreeMap<>();
        berth.getSubcommands().forEach((name, command) -> expected.put(name, synopsis(name, command.getCommandSpec())));
        assertTrue(expected.size() >= 14, "berth's commands: " + expected.keySet());

        Map<String, String> documented = new TreeMap<>();
        for (ReferencePage.Row row : page.rows("berth commands")) {
            List<String> first = ReferencePage.code(row.cell(0));
            assertEquals(1, first.size(), "a command row's first cell is one `./berth …`: " + row.line());
            String[] words = first.get(0).split(" ");
            assertEquals("./berth", words[0], "a command row starts with ./berth: " + row.line());
            assertTrue(documented.put(words[1], first.get(0)) == null, "two rows for ./berth " + words[1]);
        }
        Set<String> stale = new TreeSet<>(documented.keySet());
        stale.removeAll(expected.keySet());
        Set<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(documented.keySet());
        assertTrue(
                stale.isEmpty() && missing.isEmpty(),
                page.name() + " and ./berth disagree. Commands it lacks: " + missing
                        + "; commands it names that ./berth does not have: " + stale);
        expected.forEach((name, synopsis) ->
                assertEquals(synopsis, documented.get(name), "the row of ./berth " + name + " in " + page.name()));
    }

    @Test
    void everyBerthOptionIsDocumentedAndNoOther() {
        CommandLine berth = new CommandLine(new BerthCommand(quiet(), quiet()));
        Set<String> options = new TreeSet<>(optionNames(berth.getCommandSpec()));
        berth.getSubcommands().values().forEach(command -> options.addAll(optionNames(command.getCommandSpec())));
        assertOptions("berth options", options);
    }

    @Test
    void everyGatewayOptionIsDocumentedAndNoOther() throws Exception {
        Constructor<?> arguments =
                Class.forName("dev.berth.gateway.Main$Arguments").getDeclaredConstructor();
        arguments.setAccessible(true); // package-private in dev.berth.gateway
        CommandLine gateway = new CommandLine(arguments.newInstance());
        assertTrue(gateway.getSubcommands().isEmpty(), "the gateway's command line has commands now: document them");
        assertOptions("Gateway options", optionNames(gateway.getCommandSpec()));
    }

    private void assertOptions(String heading, Set<String> options) {
        Set<String> documented = new TreeSet<>();
        for (ReferencePage.Row row : page.rows(heading)) {
            for (String span : ReferencePage.code(row.cell(0))) {
                documented.add(span.split(" ")[0]);
            }
        }
        Set<String> stale = new TreeSet<>(documented);
        stale.removeAll(options);
        Set<String> missing = new TreeSet<>(options);
        missing.removeAll(documented);
        assertTrue(
                stale.isEmpty() && missing.isEmpty(),
                page.name() + ", \"" + heading + "\", and the code disagree. Options it lacks: " + missing
                        + "; options it names that do not exist: " + stale);
    }

    /** {@code ./berth drain ROUTE VERSION [DEADLINE]}: the command and its parameters, optional ones in brackets. */
    private static String synopsis(String name, CommandSpec command) {
        List<String> words = new ArrayList<>(List.of("./berth", name));
        for (PositionalParamSpec parameter : command.positionalParameters()) {
            String label = parameter.paramLabel();
            words.add(parameter.arity().min() == 0 ? "[" + label + "]" : label);
        }
        return String.join(" ", words);
    }

    private static Set<String> optionNames(CommandSpec command) {
        Set<String> names = new TreeSet<>();
        for (OptionSpec option : command.options()) {
            names.addAll(List.of(option.names()));
        }
        return names;
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
