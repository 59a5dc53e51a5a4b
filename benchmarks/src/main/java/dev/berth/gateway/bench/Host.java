package dev.berth.gateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The machine the benchmark runs on, as the report describes it; read from /proc and the JVM. */
final class Host {

    private Host() {}

    /** Cores, CPU model, memory and OS, in one line. */
    static String describe() {
        return "nproc " + Runtime.getRuntime().availableProcessors() + ", " + cpuModel() + ", " + memTotal() + ", "
                + System.getProperty("os.name") + ' ' + System.getProperty("os.version");
    }

    /** The 1, 5 and 15 minute load averages, or "?" where /proc does not tell. */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return String.join(" ", Arrays.copyOf(parts, 3));
        } catch (IOException e) {
            return "?";
        }
    }

    private static String cpuModel() {
        return firstLine("/proc/cpuinfo", "model name")
                .map(l -> l.substring(l.indexOf(':') + 1).trim())
                .orElse("unknown CPU");
    }

    private static String memTotal() {
        return firstLine("/proc/meminfo", "MemTotal:")
                .map(l -> String.format(
                        Locale.ROOT, "%.1f GiB RAM", Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0))
                .orElse("? RAM");
    }

    /** The first line of {@code file} that starts with {@code prefix}; none also when the file cannot be read. */
    private static Optional<String> firstLine(String file, String prefix) {
        try {
            return Files.readAllLines(Path.of(file)).stream()
                    .filter(l -> l.startsWith(prefix))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
