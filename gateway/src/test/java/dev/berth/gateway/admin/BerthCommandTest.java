package dev.berth.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.edge.TlsFrontDoor;
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
import java.util.Map;
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

    private FakeLauncher launcher;

    @BeforeEach
    void start(Vertx vertx) throws Exception {
        this.vertx = vertx;
        launcher = new FakeLauncher(vertx, Duration.ZERO);
        gateway = TestGateway.with((v, c, watch) -> Future.succeededFuture(launcher))
                .start(vertx);
        pointTheCommandAtTheGateway();
    }

    /** The config file {@code berth} reads: the test gateway's ports and admin token. */
    private void pointTheCommandAtTheGateway() throws Exception {
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
    void listsAndEndsTheSessionsOfOneSignedInUser() throws Exception {
        gateway.close();
        gateway = TestGateway.with((v, c, watch) -> Future.succeededFuture(launcher))
                .listen("trustedProxies: [\"127.0.0.1/32\"]")
                .auth("from: header")
                .start(vertx);
        pointTheCommandAtTheGateway();
        try (RawWebSocket alice = RawWebSocket.open(
                        gateway.port, Map.of("X-Forwarded-User", "alice", "X-Forwarded-For", "198.51.100.1"));
                RawWebSocket bob = RawWebSocket.open(gateway.port, Map.of("X-Forwarded-User", "bob"))) {
            assertEquals(101, alice.status);
            assertEquals(101, bob.status);
            assertEquals(0, berth("user", "alice"), err.toString());
            assertTrue(
                    out.toString().contains("198.51.100.1")
                            && out.toString().contains(" alice\n")
                            && !out.toString().contains("bob")
                            && out.toString().contains("1 session(s)"),
                    out.toString());
            assertEquals(0, berth("end-user", "alice"), err.toString());
            assertEquals("ended 1 session(s) of user alice\n", out.toString());
            assertEquals(4003, alice.awaitClose().closeCode());
            assertEquals(0, berth("sessions"));
            assertTrue(out.toString().contains(" bob\n") && out.toString().contains("1 session(s)"), out.toString());
        }
    }

    @Test
    void helpAndVersionNeedNoGatewayNoTokenAndNoConfig() {
        BerthCommand command = new BerthCommand(
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, command.run("--help"));
        assertTrue(out.toString().contains("Usage: berth") && out.toString().contains("end-user"), out.toString());
        out.reset();
        assertEquals(0, command.run("--config", "/nonexistent.yaml", "--version"));
        assertTrue(out.toString().startsWith("berth "), out.toString());
        out.reset();
        assertEquals(0, command.run("help", "drain"));
        assertTrue(
                out.toString().contains("Usage: berth drain") && out.toString().contains("DEADLINE"), out.toString());
        out.reset();
        assertEquals(0, command.run("sessions", "--help"));
        assertTrue(out.toString().contains("Usage: berth sessions"), out.toString());
    }

    @Test
    void checkSaysWhetherAFileIsValidWithoutAGateway() throws Exception {
        assertEquals(
                0, berth("check", TestGateway.ROOT.resolve("config/berth.yaml").toString()), err.toString());
        assertTrue(out.toString().contains("config/berth.yaml: valid, version "), out.toString());
        Path typo = dir.resolve("typo.yaml");
        Files.writeString(typo, "listen: {prot: 8080}\nroutes: [{name: r, path: /ws, docker: {image: x}}]\n");
        assertEquals(1, berth("check", typo.toString()));
        assertTrue(err.toString().contains("key 'listen.prot': unknown key"), err.toString());
        assertEquals(0, berth("check"), "the --config file: " + err);
    }

    @Test
    void theConfigOptionGoesAnywhere() {
        out.reset();
        err.reset();
        BerthCommand command = new BerthCommand(
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, command.run("admissions", "--config", config.toString()), err.toString());
        assertEquals("admissions open\n", out.toString());
    }

    @Test
    void theReadOnlyTokenReadsButChangesNothingAndReadyNeedsNoToken() throws Exception {
        Files.delete(dir.resolve("admin.key")); // this user can read only the read-only token
        Files.writeString(dir.resolve("admin-read.key"), gateway.adminReadOnlyToken + "\n");
        assertEquals(0, berth("sessions"), err.toString());
        assertEquals(0, berth("admissions"), err.toString());
        assertEquals(1, berth("pause"));
        assertTrue(err.toString().contains("403"), err.toString());
        Files.delete(dir.resolve("admin-read.key"));
        assertEquals(2, berth("sessions"));
        assertTrue(err.toString().contains("cannot read the admin token"), err.toString());
        assertEquals(0, berth("ready"), "no token at all: " + err);
        assertEquals("ready\n", out.toString());
    }

    @Test
    void overTlsReadyAndTheAdminApiTrustTheGatewaysOwnCertificate() throws Exception {
        TlsFrontDoor.certificate(dir);
        String tls = "tls: {cert: \"" + dir.resolve("cert.pem") + "\", key: \"" + dir.resolve("key.pem") + "\"}";
        gateway.close();
        gateway = TestGateway.with((v, c, watch) -> Future.succeededFuture(launcher))
                .listen(tls)
                .admin(tls)
                .start(vertx);
        pointTheCommandAtTheGateway();
        Files.writeString(
                config,
                Files.readString(config)
                        .replace("listen: {port: " + gateway.port, "listen: {" + tls + ", port: " + gateway.port)
                        .replace(
                                "admin: {port: " + gateway.adminPort,
                                "admin: {" + tls + ", port: " + gateway.adminPort));
        assertEquals(0, berth("ready"), err.toString());
        assertEquals("ready\n", out.toString());
        assertEquals(0, berth("sessions"), err.toString());
        assertTrue(out.toString().contains("0 session(s)"), out.toString());
    }

    @Test
    void mistakesAreNamedWithTheirOwnExitStatus() throws Exception {
        assertEquals(2, berth("end"), "end needs a key");
        assertTrue(
                err.toString().contains("Missing required parameter: 'KEY'")
                        && err.toString().contains("Usage: berth end"),
                err.toString());
        assertEquals(2, berth("drain", "r"), "drain needs a route and a version");
        assertEquals(2, berth("shutdown"));
        assertTrue(err.toString().contains("Unmatched argument at index 2: 'shutdown'"), err.toString());

        Files.writeString(dir.resolve("admin.key"), "not-the-token\n");
        assertEquals(1, berth("sessions"));
        assertTrue(err.toString().contains("401"), err.toString());

        Files.writeString(config, Files.readString(config).replace("port: " + gateway.adminPort, "port: 1"));
        assertEquals(3, berth("sessions"), "nothing listens there");
    }
}
