package dev.berth.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A benchmark's {@code --flag value} arguments, checked against the flags it knows; every
 * problem fails with the usage text.
 */
final class CommandLine {

    private final Map<String, String> values = new HashMap<>();
    private final String usage;

    private CommandLine(String usage) {
        this.usage = usage;
    }

    /** @param flags the flags the benchmark takes besides {@code --root} */
    static CommandLine parse(String[] args, Set<String> flags, String usage) {
        CommandLine line = new CommandLine(usage);
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("-h") || flag.equals("--help")) {
                throw new IllegalArgumentException(usage);
            }
            if (!flags.contains(flag) && !flag.equals("--root")) {
                throw new IllegalArgumentException("unknown argument '" + flag + "'\n" + usage);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value\n" + usage);
            }
            line.values.put(flag, args[++i]);
        }
        return line;
    }

    int number(String flag, int fallback, int min, int max) {
        String value = values.get(flag);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(
                flag + " takes a whole number from " + min + " to " + max + ", not '" + value + "'\n" + usage);
    }

    /** The flag's value, one of {@code allowed}, or {@code fallback} when it is not given. */
    String choice(String flag, String fallback, Set<String> allowed) {
        String value = values.getOrDefault(flag, fallback);
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException(
                    flag + " takes one of " + new java.util.TreeSet<>(allowed) + ", not '" + value + "'\n" + usage);
        }
        return value;
    }

    /** {@code --root}, else the working directory, or its parent when started from gateway/. */
    Path repositoryRoot() {
        Path dir = Path.of(values.getOrDefault("--root", "")).toAbsolutePath();
        String marker = "gateway/pom.xml";
        if (!Files.isRegularFile(dir.resolve(marker))
                && dir.getParent() != null
                && Files.isRegularFile(dir.getParent().resolve(marker))) {
            return dir.getParent();
        }
        if (!Files.isRegularFile(dir.resolve(marker))) {
            throw new IllegalArgumentException(
                    dir + " has no " + marker + ": run from the repository root or pass --root");
        }
        return dir;
    }
}
