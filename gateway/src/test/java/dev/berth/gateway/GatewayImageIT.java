package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway as an image: {@code scripts/run-in-container.sh} brings the gateway up in a container
 * of its own (berth/gateway, FROM scratch) on this machine's engine, on the default config, and it
 * serves a session end to end, the page's feed from the session's own container included; {@code
 * --stop} leaves nothing behind (sessions.onShutdown: end), neither the gateway's container nor a
 * session's. The image is built first (nothing to do when it is up to date with the jar).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
@Tag("engine")
class GatewayImageIT {

    private static final Path ROOT = TestGateway.ROOT;
    private static final String ROUTE = "listings";

    @TempDir
    Path state;

    @Test
    void runInContainerServesASessionEndToEndAndStopLeavesNothing() throws Exception {
        Command.Result built = Command.run(
                List.of("bash", ROOT.resolve("gateway-image/build-image.sh").toString()), 600);
        assertEquals(0, built.status(), built.output());

        String id = HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
        String gatewayId = "image-it-" + id; // its sessions' containers end in .image-it-<id>: nobody else's
        String name = "berth-gateway-it-" + id;
        int port = freePort();
        Vertx vertx = Vertx.vertx();
        try {
            Command.Result started = script(
                    List.of(
                            "--no-build",
                            "--port",
                            Integer.toString(port),
                            "--admin-port",
                            Integer.toString(freePort()),
                            "--on-shutdown",
                            "end",
                            "--gateway-id",
                            gatewayId,
                            "--state-dir",
                            state.toString(),
                            "--name",
                            name),
                    240);
            assertEquals(0, started.status(), started.output());
            String[] lines = started.output().strip().split("\n");
            String containerId = lines[lines.length - 1];
            assertTrue(
                    containerId.matches("[0-9a-f]{64}"), "the script prints the container's id: " + started.output());
            assertEquals(name, docker("inspect", "-f", "{{.Name}}", containerId).replaceFirst("^/", ""), logs(name));
            String[] top = docker("top", name, "-o", "pid,uid").split("\\s+"); // PID UID <pid> <uid>
            assertNotEquals("0", top[top.length - 1], "the gateway does not run as root in its container");

            HttpResponse<String> page = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                                    .timeout(Duration.ofSeconds(20))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), logs(name));
            assertTrue(page.body().contains("berth.js"), "the page, with its resume client: " + page.body());

            try (FrameClient client = FrameClient.connect(vertx, port, null)) {
                JsonObject hello = client.hello();
                assertEquals("0.1.0", hello.getString("version"), hello.encode());
                String hostname = hello.getString("hostname");
                List<String> own = docker(
                                "ps",
                                "--no-trunc",
                                "--filter",
                                "label=berth.route=" + ROUTE,
                                "--filter",
                                "id=" + hostname,
                                "--format",
                                "{{.Names}}")
                        .lines()
                        .toList();
                assertEquals(
                        List.of("berth-" + ROUTE + "-" + hello.getString("session") + "." + gatewayId),
                        own,
                        "the hello comes from the session's own container, started by the containerised gateway");
                for (int i = 0; i < 2; i++) {
                    JsonObject listing = client.nextMessage("listing");
                    assertTrue(listing.containsKey("city"), listing.encode());
                }
            }

            Command.Result stopped = script(List.of("--stop", "--name", name), 120);
            assertEquals(0, stopped.status(), stopped.output());
            assertTrue(stopped.output().contains("shut down cleanly"), stopped.output());
            assertEquals("", docker("ps", "-a", "-q", "--filter", "name=^" + name + "$"), "no gateway container left");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!sessionContainers(gatewayId).isEmpty() && System.nanoTime() - deadline < 0) {
                Thread.sleep(200);
            }
            assertEquals(List.of(), sessionContainers(gatewayId), "no session container left");
        } finally {
            vertx.close().await(20, TimeUnit.SECONDS);
            // A failed test leaves nothing either: the gateway's container, then its sessions'.
            Command.run(List.of("docker", "rm", "--force", name), 60);
            for (String left : sessionContainers(gatewayId)) {
                Command.run(List.of("docker", "rm", "--force", left), 60);
            }
        }
    }

    private static Command.Result script(List<String> arguments, long timeoutSeconds) throws Exception {
        List<String> command = new ArrayList<>(
                List.of("bash", ROOT.resolve("scripts/run-in-container.sh").toString()));
        command.addAll(arguments);
        return Command.run(command, timeoutSeconds);
    }

    /** The containers of the test gateway's sessions, running or not, by name. */
    private static List<String> sessionContainers(String gatewayId) throws Exception {
        return docker("ps", "-a", "--filter", "label=berth.route=" + ROUTE, "--format", "{{.Names}}")
                .lines()
                .filter(name -> name.endsWith("." + gatewayId))
                .toList();
    }

    private static String docker(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(arguments));
        Command.Result result = Command.run(command, 60);
        assertEquals(0, result.status(), String.join(" ", command) + ": " + result.output());
        return result.output().strip();
    }

    private static String logs(String name) throws Exception {
        return "the gateway's log:\n"
                + Command.run(List.of("docker", "logs", "--tail", "60", name), 60)
                        .output();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
