package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Routes that change while the gateway runs: a reload (good, bad, by the file watch) swaps the
 * route table whole, new sessions start on the route's new version while existing ones keep their
 * backend, an old version drains by its deadline, and a canary that fails is braked.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class VersionedRoutesTest extends FakeLauncherGatewayTest {

    private TestGateway.Builder onV1() {
        return gatewayOn().version("v1");
    }

    private BerthConfig reload() throws Exception {
        return gateway.verticle.reload("test").await(20, TimeUnit.SECONDS);
    }

    private void upgradeTo(String version) throws Exception {
        gateway.editConfig(text -> text.replace("version: v1", "version: " + version));
        reload();
    }

    private static void echoes(FrameClient client, String text) throws InterruptedException {
        client.socket().writeTextMessage(text);
        assertEquals(text, client.nextDataFrame().textData());
    }

    @Test
    void newSessionsStartOnTheNewVersionWhileExistingOnesKeepTheirBackend() throws Exception {
        gateway = onV1().start(vertx);
        try (FrameClient before = FrameClient.connect(vertx, gateway.port, null)) {
            JsonObject hello = before.hello();
            assertEquals("v1", hello.getString("version"));
            echoes(before, "one");

            upgradeTo("v2");

            try (FrameClient after = FrameClient.connect(vertx, gateway.port, null)) {
                assertEquals("v2", after.hello().getString("version"), "a session started after the reload");
            }
            echoes(before, "two");
            FakeLauncher.EchoBackend kept = launcher.backend(hello.getString("session"));
            assertEquals(1, kept.connections.get(), "the v1 session kept its backend and its one connection");
            assertTrue(!kept.stopped());

            JsonObject routes = new JsonObject(gateway.admin("GET", "/routes").body());
            JsonObject route = routes.getJsonArray("routes").getJsonObject(0);
            assertEquals("v2", route.getString("version"));
            assertEquals(1, route.getJsonObject("sessions").getInteger("v1"), routes.encode());
            JsonObject draining = routes.getJsonArray("draining").getJsonObject(0);
            assertEquals("v1", draining.getString("version"));
            assertEquals(null, draining.getString("deadline"), "drain: wait (the default) sets no deadline");
        }
    }

    @Test
    void pastTheDrainDeadlineAnOldSessionIsToldToReconnectAndComesBackOnTheNewVersion() throws Exception {
        gateway = onV1().route("drain: 3s").start(vertx); // room for the echo below on a busy machine
        try (FrameClient old = FrameClient.connect(vertx, gateway.port, null)) {
            String oldKey = old.hello().getString("session");
            upgradeTo("v2");
            echoes(old, "still here during the drain");

            assertEquals(1001, old.awaitClose());
            assertTrue(old.closeReason().contains("reconnect"), old.closeReason());
            await(() -> launcher.backend(oldKey).stopped(), "the retired session's backend is stopped");

            try (FrameClient back = FrameClient.connect(vertx, gateway.port, old.sessionToken())) {
                JsonObject hello = back.hello();
                assertEquals("v2", hello.getString("version"));
                assertNotEquals(oldKey, hello.getString("session"), "a new session on the new version");
            }
        }
    }

    @Test
    void aBadFileIsRejectedWithTheKeyAndTheFixAndTheConfigInForceStays() throws Exception {
        gateway = onV1().start(vertx);
        String versionBefore = new JsonObject(gateway.admin("GET", "/config").body()).getString("version");
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();

            gateway.editConfig(text -> text.replace("maxSessions: ", "maxSessions: -"));
            Exception invalid = assertThrows(Exception.class, this::reload);
            assertTrue(
                    invalid.getMessage().contains("routes[0].maxSessions")
                            && invalid.getMessage().contains("Fix"),
                    invalid.getMessage());

            gateway.editConfig(text ->
                    text.replace("maxSessions: -", "maxSessions: ").replace("maxFrameSize: 16m", "maxFrameSize: 1m"));
            Exception restartOnly = assertThrows(Exception.class, this::reload);
            assertTrue(
                    restartOnly.getMessage().contains("listen changed")
                            && restartOnly.getMessage().contains("restart"),
                    restartOnly.getMessage());

            HttpResponse<String> viaApi = gateway.admin("POST", "/config/reload");
            assertEquals(422, viaApi.statusCode(), viaApi.body());
            assertEquals(
                    versionBefore,
                    new JsonObject(gateway.admin("GET", "/config").body()).getString("version"));
            echoes(client, "undisturbed");
        }
    }

    @Test
    void theFileWatchAddsAndRemovesRoutesAndARemovedRoutesSessionsGoOn() throws Exception {
        gateway = onV1().start(vertx);
        String chat =
                "\n  - name: chat\n    path: /chat\n    version: c1\n    process: {command: [java, -jar, x.jar]}\n";
        gateway.editConfig(text -> text + chat);
        await(
                () -> plainStatus("/chat") == 426,
                "the file watch adds /chat (a websocket route answers 426 to plain GETs)");
        try (FrameClient chatting = FrameClient.connect(vertx, gateway.port, "/chat", null, null)) {
            assertEquals("c1", chatting.hello().getString("version"));
            assertTrue(gateway.get("/metrics").contains("route=\"chat\""), "the new route's series are registered");

            gateway.editConfig(text -> text.replace(chat, "\n"));
            await(() -> plainStatus("/chat") == 404, "the file watch removes /chat");
            echoes(chatting, "the removed route's session goes on");
        }
    }

    @Test
    void aCanaryThatFailsIsBrakedAndNewSessionsThenStartOnTheRouteVersion() throws Exception {
        launcher.failingLaunchesOf("v2", "the canary image is broken");
        gateway = onV1().route("canary: {version: v2, weight: 50, brake: {minSessions: 3, failureMargin: 0.2}}")
                .start(vertx);
        int canaryFailures = 0;
        for (int attempt = 0; attempt < 60 && canaryFailures < 3; attempt++) {
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                assertEquals("v1", client.hello().getString("version"));
            } catch (io.vertx.core.http.UpgradeRejectedException refused) {
                assertEquals(502, refused.getStatus(), "a canary whose launch failed");
                assertTrue(
                        refused.getBody().toString().startsWith("start_failed: "),
                        refused.getBody().toString());
                canaryFailures++;
            }
        }
        assertEquals(3, canaryFailures, "half the new sessions tried the canary");
        for (int i = 0; i < 10; i++) {
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                assertEquals("v1", client.hello().getString("version"), "once braked, every new session starts on v1");
            }
        }
        JsonObject canary = new JsonObject(gateway.admin("GET", "/routes").body())
                .getJsonArray("routes")
                .getJsonObject(0)
                .getJsonObject("canary");
        assertEquals(true, canary.getBoolean("braked"), canary.encode());
        assertTrue(canary.getString("brakedBecause").contains("failed"), canary.encode());
        assertEquals(3, canary.getJsonObject("canary").getInteger("failed"));
        await(
                () -> gateway.get("/metrics")
                        .contains("berth_canary_braked{route=\"" + gateway.route + "\",version=\"v2\"} 1.0"),
                "the brake shows in the metrics");
    }

    @Test
    void anOperatorDrainsAVersionThroughTheAdminApi() throws Exception {
        gateway = onV1().start(vertx);
        try (FrameClient old = FrameClient.connect(vertx, gateway.port, null)) {
            old.hello();
            upgradeTo("v2");
            assertEquals(
                    409,
                    gateway.admin("POST", "/routes/" + gateway.route + "/versions/v2/drain")
                            .statusCode(),
                    "the route's own version cannot be drained");
            assertEquals(
                    404,
                    gateway.admin("POST", "/routes/" + gateway.route + "/versions/v9/drain")
                            .statusCode());
            assertEquals(
                    400,
                    gateway.admin("POST", "/routes/" + gateway.route + "/versions/v1/drain?deadline=soon")
                            .statusCode());

            HttpResponse<String> drained =
                    gateway.admin("POST", "/routes/" + gateway.route + "/versions/v1/drain?deadline=200ms");
            assertEquals(200, drained.statusCode(), drained.body());
            assertEquals(1, new JsonObject(drained.body()).getInteger("sessions"));
            assertEquals(1001, old.awaitClose());
        }
        await(
                () -> new JsonObject(gateway.admin("GET", "/sessions").body())
                        .getJsonArray("sessions")
                        .isEmpty(),
                "the drained session is gone");
    }

    private int plainStatus(String path) {
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port + path))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        dev.berth.gateway.Await.until(condition, 10_000, what);
    }
}
