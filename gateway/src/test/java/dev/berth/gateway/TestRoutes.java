package dev.berth.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The names of test routes ({@code t-} and 8 hex digits), and which test JVM made each: every JVM
 * writes the names it makes to a file of its own, named after its pid, before any backend of the
 * route exists. So {@link TestSweep} can tell what a dead run left from what a live one runs, and
 * two test runs on one engine leave each other's sessions alone.
 */
public final class TestRoutes {

    private static final Path FOLDER = Path.of(System.getProperty("java.io.tmpdir"), "berth-test-routes");
    private static final long PID = ProcessHandle.current().pid();

    private TestRoutes() {}

    /** A new test route's name, recorded as this JVM's. */
    public static synchronized String newName() {
        String route = "t-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            Files.createDirectories(FOLDER);
            Files.writeString(
                    mine(), route + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record test route " + route + " in " + FOLDER, e);
        }
        return route;
    }

    /** The routes of the test JVMs that still run, this one's included; the files of dead ones are deleted. */
    static Set<String> ofLiveRuns() throws IOException {
        Set<String> live = new HashSet<>();
        if (!Files.isDirectory(FOLDER)) {
            return live;
        }
        try (Stream<Path> files = Files.list(FOLDER)) {
            for (Path file : files.toList()) {
                long pid = Long.parseLong(file.getFileName().toString().replace(".routes", ""));
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    live.addAll(Files.readAllLines(file));
                } else {
                    Files.deleteIfExists(file);
                }
            }
        }
        return live;
    }

    /** This JVM's routes; forgotten once its run is over. */
    static Set<String> ofThisRun() throws IOException {
        return Files.exists(mine()) ? new HashSet<>(Files.readAllLines(mine())) : Set.of();
    }

    static void forgetThisRun() throws IOException {
        Files.deleteIfExists(mine());
    }

    /** The route of a container's or service's name, {@code berth-ROUTE-KEY...}; null when it is no test route's. */
    static String routeOf(String name) {
        return name.matches("^berth-t-[0-9a-f]{8}-.+")
                ? name.substring("berth-".length(), "berth-t-".length() + 8)
                : null;
    }

    private static Path mine() {
        return FOLDER.resolve(PID + ".routes");
    }
}
