package dev.berth.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The operator's API on its own listener: nothing without the token, then sessions, admissions and config. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminApiTest extends FakeLauncherGatewayTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void callsWithoutTheTokenGet401AndLearnNothing() throws Exception {
        gateway = gatewayOn().start(vertx);
        for (String path : new String[] {"/sessions", "/config", "/no-such-path"}) {
            HttpResponse<String> anonymous = call("GET", path, null);
            assertEquals(401, anonymous.statusCode(), path);
            assertEquals("", anonymous.body(), "nothing revealed on " + path);
            assertEquals(401, call("GET", path, "not-the-token").statusCode(), path);
        }
        assertEquals(
                401,
                call("DELETE", "/sessions/anything", gateway.adminToken + "x").statusCode());
    }

    @Test
    void listsSessionsWithTheirStateAndBytesAndEndsOne() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            client.socket().writeTextMessage("12345");
            assertEquals("12345", client.nextDataFrame().textData());

            JsonArray sessions =
                    json(call("GET", "/sessions", gateway.adminToken)).getJsonArray("sessions");
            assertEquals(1, sessions.size(), sessions.encode());
            JsonObject session = sessions.getJsonObject(0);
            assertEquals(key, session.getString("key"));
            assertEquals(gateway.route, session.getString("route"));
            assertEquals("attached", session.getString("state"));
            assertEquals(5, session.getLong("bytesFromClient"), "the one message's 5 bytes");
            assertTrue(session.getLong("bytesToClient") > 5, "the hello and the echo: " + session);

            assertEquals(
                    204, call("DELETE", "/sessions/" + key, gateway.adminToken).statusCode());
            assertEquals(4003, client.awaitClose(), "the client is told an operator ended it");
            assertEquals(Failure.ENDED_BY_OPERATOR.publicReason(), client.closeReason());
            assertEquals(
                    404, call("DELETE", "/sessions/" + key, gateway.adminToken).statusCode(), "already gone");
            assertEquals(0, launcher.running(), "its backend stopped");
        }
    }

    @Test
    void pausedAdmissionsRefuseNewSessionsButNotReturningClients() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            client.hello();
            token = client.sessionToken();
            client.leave();
        }
        assertEquals(
                "paused",
                json(call("POST", "/admissions/pause", gateway.adminToken)).getString("admissions"));
        assertEquals(
                "paused", json(call("GET", "/admissions", gateway.adminToken)).getString("admissions"));
        assertTrue(FrameClient.refusal(vertx, gateway.port).getMessage().contains("503"), "a new session is refused");
        try (FrameClient back = FrameClient.connect(vertx, gateway.port, token)) {
            back.socket().writeTextMessage("still here");
            assertEquals("still here", back.nextDataFrame().textData(), "a returning client gets its session");
        }
        assertEquals(
                "open",
                json(call("POST", "/admissions/resume", gateway.adminToken)).getString("admissions"));
        try (FrameClient fresh = FrameClient.connect(vertx, gateway.port, null)) {
            assertTrue(fresh.hello().getString("session").length() > 0, "new sessions start again");
        }
        assertTrue(gateway.get("/metrics")
                .contains("berth_refusals_total{reason=\"admissions_paused\",route=\"" + gateway.route + "\"} 1.0"));
    }

    @Test
    void showsTheConfigInForceWithItsVersion() throws Exception {
        gateway = gatewayOn().start(vertx);
        JsonObject config = json(call("GET", "/config", gateway.adminToken));
        assertTrue(config.getString("text").contains("name: " + gateway.route), config.encode());
        assertTrue(config.getString("version").matches("[0-9a-f]{16}"), config.getString("version"));
    }

    @Test
    void metricsMoveToTheAdminListenerWhenAsked() throws Exception {
        gateway = gatewayOn().admin("metrics: true").start(vertx);
        assertEquals(
                404,
                http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode(),
                "not on the public listener");
        HttpResponse<String> metrics = call("GET", "/metrics", gateway.adminToken);
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("berth_sessions_active"), metrics.body());
    }

    private HttpResponse<String> call(String method, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        return new JsonObject(response.body());
    }
}
