package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway process and the signals an operator sends it. A parent that ignores SIGHUP (nohup)
 * passes that on, and the JVM then keeps it ignored: the gateway cannot reload on it, and says so
 * at start rather than letting a `kill -HUP` do nothing without a word. Child JVMs on the process
 * launcher: no engine needed.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
@Tag("long")
class MainSignalsTest {

    private static final String IGNORED_WARNING = "SIGHUP is ignored by this process";

    private final List<GatewayProcess> gateways = new ArrayList<>();
    private Path dir;
    private Path config;

    @BeforeEach
    void writeConfig() throws Exception {
        dir = Files.createTempDirectory("berth-signals-");
        config = dir.resolve("berth.yaml");
        Files.writeString(
                config, """
        listen: {host: 127.0.0.1, port: 0}
        admin: {port: 0, tokenFile: "%s"}
        launcher: process
        sessions: {tokenSecretFile: "%s", drainDeadline: 1s}
        routes:
          - name: t-signals
            path: /ws
            process: {command: [java, -jar, "%s"]}
        """.formatted(dir.resolve("admin.key"), dir.resolve("token.key"), TestGateway.HANDLER_JAR));
    }

    @AfterEach
    void stopGatewaysAndRemoveFiles() throws Exception {
        for (GatewayProcess gateway : gateways) {
            gateway.kill();
            gateway.process.waitFor(30, TimeUnit.SECONDS);
        }
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    @Test
    void aGatewayStartedWithSighupIgnoredSaysItWillNotReloadOnIt() throws Exception {
        GatewayProcess gateway = start("env", "--ignore-signal=HUP"); // as nohup does
        gateway.awaitLogLine(IGNORED_WARNING);
        assertTrue(
                Files.readString(gateway.log).contains("Start the gateway with the signal's default action"),
                "the warning says what to do instead");
    }

    @Test
    void aGatewayStartedWithSighupsDefaultActionReloadsOnItAndDoesNotWarn() throws Exception {
        GatewayProcess gateway = start();
        gateway.hangUp();
        gateway.awaitLogLine("config reloaded (SIGHUP): the file is unchanged");
        assertFalse(Files.readString(gateway.log).contains(IGNORED_WARNING), Files.readString(gateway.log));
        gateway.terminate();
        assertTrue(gateway.process.waitFor(30, TimeUnit.SECONDS), "SIGTERM stops it");
        assertEquals(0, gateway.process.exitValue(), "a clean exit on SIGTERM");
    }

    @Test
    void aGatewayLogsJsonLinesWithBerthsDebugRecordsButNotTheLibraries() throws Exception {
        Files.writeString(
                config,
                Files.readString(config).replace("port: 0}", "port: 0, handshakeTimeout: 200ms}")
                        + "log: {format: json, level: debug}\n");
        GatewayProcess gateway = start();
        try (java.net.Socket silent = new java.net.Socket("127.0.0.1", gateway.port)) {
            gateway.awaitLogLine("sent no whole request within 200ms"); // a debug record of Berth's
        }
        gateway.terminate();
        assertTrue(gateway.process.waitFor(30, TimeUnit.SECONDS), "SIGTERM stops it");
        List<JsonObject> lines = new ArrayList<>();
        for (String line : Files.readAllLines(gateway.log)) {
            if (line.startsWith("{")) {
                lines.add(new JsonObject(line)); // each one whole JSON: a log pipeline reads it as is
            }
        }
        assertTrue(lines.size() > 5, Files.readString(gateway.log));
        assertTrue(lines.stream().allMatch(line -> line.getString("time") != null && line.getString("logger") != null));
        assertTrue(
                lines.stream()
                        .anyMatch(line -> line.getString("level").equals("FINE")
                                && line.getString("logger").startsWith("dev.berth")),
                "Berth's debug records are written");
        assertFalse(
                lines.stream()
                        .anyMatch(line -> line.getString("level").equals("FINE")
                                && !line.getString("logger").startsWith("dev.berth")),
                "the libraries' are not");
    }

    /** A gateway on the config, started through {@code prefix} (e.g. env setting its signals). */
    private GatewayProcess start(String... prefix) throws Exception {
        List<String> command = new ArrayList<>(List.of(prefix));
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.berth.gateway.Main",
                "--config",
                config.toString()));
        GatewayProcess gateway = GatewayProcess.run(
                command, null, dir.resolve("gateway-" + gateways.size() + ".log"), Duration.ofSeconds(60));
        gateways.add(gateway);
        return gateway;
    }
}
