package dev.berth.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Keeps the console for what matters: every log line of the gateways, launchers and engines a test
 * runs goes to {@code target/test-logs/<class>/<test>.log} instead, and a test that fails prints
 * its own lines (the last {@value #ON_FAILURE} of them) to the console, right where Surefire reports
 * it. Registered for every test by auto-detection (src/test/resources/META-INF/services).
 *
 * <p>Test classes run in parallel, so a line is told to its class by the thread that logged it:
 * the class's own thread, and every thread started from it or from those (its gateways' event
 * loops and workers), carry the class's name. Tests of one class run one after another, so a
 * class's lines split into its tests by time. A line from a thread no class started (a pool some
 * library shares) goes to {@code target/test-logs/unattributed.log}.
 */
public final class TestLog implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

    private static final int ON_FAILURE = 300;
    private static final Path DIR = Path.of("target", "test-logs");
    private static final InheritableThreadLocal<String> OWNER = new InheritableThreadLocal<>();
    private static final Capture CAPTURE = new Capture();

    /** Collects every record while the tests run, by test class; the console handlers are taken off the root logger once. */
    private static final class Capture extends Handler {
        private final Map<String, List<String>> lines = new HashMap<>();
        private boolean installed;

        Capture() {
            setFormatter(new SimpleFormatter());
            setLevel(Level.ALL);
        }

        synchronized void install() {
            if (installed) {
                return;
            }
            Logger root = LogManager.getLogManager().getLogger("");
            for (Handler handler : root.getHandlers()) {
                root.removeHandler(handler);
            }
            root.addHandler(this);
            installed = true;
        }

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) {
                return;
            }
            String owner = OWNER.get();
            String line = getFormatter().format(record);
            if (owner == null) {
                append(DIR.resolve("unattributed.log"), line);
                return;
            }
            synchronized (this) {
                lines.computeIfAbsent(owner, key -> new ArrayList<>()).add(line);
            }
        }

        synchronized List<String> peek(String owner) {
            return List.copyOf(lines.getOrDefault(owner, List.of()));
        }

        synchronized List<String> drain(String owner) {
            List<String> taken = lines.remove(owner);
            return taken == null ? List.of() : taken;
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    /** What the running test has logged so far, formatted, for a test that checks what its log says. */
    public static List<String> soFar() {
        return CAPTURE.peek(OWNER.get());
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        CAPTURE.install();
        OWNER.set(context.getRequiredTestClass().getName());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        OWNER.set(context.getRequiredTestClass().getName());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<String> lines = CAPTURE.drain(context.getRequiredTestClass().getName());
        write(context, context.getRequiredTestMethod().getName() + ".log", lines);
        context.getExecutionException().ifPresent(failure -> {
            int from = Math.max(0, lines.size() - ON_FAILURE);
            StringBuilder shown = new StringBuilder("---- log of " + context.getDisplayName() + " (" + lines.size()
                    + " lines, the last " + (lines.size() - from) + " here; all in "
                    + file(context, context.getRequiredTestMethod().getName() + ".log") + ") ----\n");
            lines.subList(from, lines.size()).forEach(shown::append);
            System.err.print(shown.append("---- end of the log of ")
                    .append(context.getDisplayName())
                    .append(" ----\n"));
        });
    }

    @Override
    public void afterAll(ExtensionContext context) {
        write(
                context,
                "before-and-after-all.log",
                CAPTURE.drain(context.getRequiredTestClass().getName()));
    }

    private static Path file(ExtensionContext context, String name) {
        return DIR.resolve(context.getRequiredTestClass().getName()).resolve(name);
    }

    private static void write(ExtensionContext context, String name, List<String> lines) {
        if (lines.isEmpty()) {
            return;
        }
        try {
            Path file = file(context, name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, String.join("", lines));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized void append(Path file, String line) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
