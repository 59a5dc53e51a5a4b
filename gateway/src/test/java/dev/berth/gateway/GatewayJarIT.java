package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The packaged gateway refuses to start on a bad config file, and says exactly what to fix. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class GatewayJarIT {

    @TempDir
    Path dir;

    @Test
    void badConfigFileStopsTheGatewayWithExitCode2AndTheFix() throws Exception {
        Path config = dir.resolve("berth.yaml");
        Files.writeString(config, """
        listen: {port: 8080}
        routes:
          - name: listings
            path: /ws
            docker: {image: "berth/handler:0.1.0"}
            process: {command: [java, -jar, handler.jar]}
            timeouts: {ready: soon}
        """);
        Path log = dir.resolve("gateway.log"); // a file, not a pipe: it can be read after the process is gone
        Process gateway = new ProcessBuilder(
                        "java",
                        "-jar",
                        TestGateway.ROOT
                                .resolve("gateway/target/berth-gateway.jar")
                                .toString(),
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            assertTrue(gateway.waitFor(60, TimeUnit.SECONDS), "the gateway exits at once");
        } finally {
            gateway.destroyForcibly(); // a gateway that did not exit is not left running
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(2, gateway.exitValue(), output);
        assertTrue(output.contains(config + ": key 'routes[0].timeouts.ready': 'soon' is not a duration"), output);
        assertTrue(output.contains("Fix: write a number with a unit"), output);
    }
}
