package dev.berth.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command line for a test, bounded: its output goes to a file while it runs, so a command
 * that hangs is killed at its timeout instead of holding the build on a read that never ends.
 */
public final class Command {

    /** What a command did: its exit status and its output, stdout and stderr together. */
    public record Result(int status, String output) {}

    private Command() {}

    public static Result run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        Path output = Files.createTempFile("berth-test-command-", ".out");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(
                        String.join(" ", command) + " took over " + timeoutSeconds + "s: killed");
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
