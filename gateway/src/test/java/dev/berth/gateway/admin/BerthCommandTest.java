package dev.berth.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The {@code berth} command line against a real gateway's admin API, reading its config file as an operator's would. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BerthCommandTest {

    @TempDir
    Path dir;

    private Vertx vertx;
    private TestGateway gateway;
    private Path config;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start(Vertx vertx) throws Exception {
        this.vertx = vertx;
        FakeLauncher launcher = new FakeLauncher(vertx, Duration.ZERO);
        gateway = TestGateway.with((v, c, watch) -> Future.succeededFuture(launcher))
                .start(vertx);
        Path token = dir.resolve("admin.key");
        Files.writeString(token, gateway.adminToken + "\n");
        config = dir.resolve("berth.yaml");
        Files.writeString(config, """
        listen: {port: %d}
        admin: {port: %d, tokenFile: admin.key}
        launcher: docker
        routes: [{name: r, path: /ws, docker: {image: "x"}}]
        """.formatted(gateway.port, gateway.adminPort));
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
    }

    private int berth(String... args) {
        out.reset();
        err.reset();
        String[] withConfig = new String[args.length + 2];
        withConfig[0] = "--config";
        withConfig[1] = config.toString();
        System.arraycopy(args, 0, withConfig, 2, args.length);
        return new BerthCommand(
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(withConfig);
    }

    @Test
    void listsEndsPausesAndShowsWhatTheGatewayHas() throws Exception {
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            assertEquals(0, berth("sessions"), err.toString() + out);
            assertTrue(
                    out.toString().contains(key)
                            && out.toString().contains("attached")
                            && out.toString().contains("1 session(s)"),
                    out.toString());

            assertEquals(0, berth("pause"));
            assertEquals("admissions paused\n", out.toString());
            assertEquals(0, berth("admissions"));
            assertEquals("admissions paused\n", out.toString());
            assertEquals(0, berth("resume"));
            assertEquals("admissions open\n", out.toString());

            assertEquals(0, berth("config"));
            assertTrue(
                    out.toString().startsWith("# ") && out.toString().contains("name: " + gateway.route),
                    out.toString());

            assertEquals(0, berth("ready"));
            assertEquals(0, berth("end", key));
            assertEquals(4003, client.awaitClose());
            assertEquals(1, berth("end", key), "no such session any more");
            assertTrue(err.toString().contains("no live session with key " + key), err.toString());
        }
    }

    @Test
    void reloadsShowsRoutesAndDrainsAVersion() throws Exception {
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            assertEquals(0, berth("reload"), err.toString());
            assertTrue(out.toString().startsWith("reloaded: version "), out.toString());

            gateway.editConfig(text -> text.replace("version: test", "version: next"));
            assertEquals(0, berth("reload"), err.toString());
            assertEquals(0, berth("routes"));
            assertTrue(
                    out.toString()
                            .contains(gateway.route + " /ws: version next, live sessions by version {\"test\":1}"),
                    out.toString());
            assertTrue(
                    out.toString().contains("draining " + gateway.route + " test: 1 session(s), until they end"),
                    out.toString());

            assertEquals(1, berth("drain", gateway.route, "next"), "the route's own version");
            assertTrue(err.toString().contains("Change the route's version"), err.toString());
            assertEquals(0, berth("drain", gateway.route, "test", "100ms"), err.toString());
            assertTrue(
                    out.toString().contains("draining 1 session(s) of " + gateway.route + " test within 100ms"),
                    out.toString());
            assertEquals(1001, client.awaitClose());

            gateway.editConfig(text -> text.replace("routes:", "routes: ["));
            assertEquals(1, berth("reload"));
            assertTrue(
                    err.toString().contains("the file was rejected")
                            && err.toString().contains("Fix"),
                    err.toString());
        }
    }

    @Test
    void mistakesAreNamedWithTheirOwnExitStatus() throws Exception {
        assertEquals(2, berth("end"), "end needs a key");
        assertTrue(err.toString().contains("usage: berth"), err.toString());
        assertEquals(2, berth("drain", "r"), "drain needs a route and a version");
        assertEquals(2, berth("shutdown"));
        assertTrue(err.toString().contains("unknown command 'shutdown'"), err.toString());

        Files.writeString(dir.resolve("admin.key"), "not-the-token\n");
        assertEquals(1, berth("sessions"));
        assertTrue(err.toString().contains("401"), err.toString());

        Files.writeString(config, Files.readString(config).replace("port: " + gateway.adminPort, "port: 1"));
        assertEquals(3, berth("sessions"), "nothing listens there");
    }
}
