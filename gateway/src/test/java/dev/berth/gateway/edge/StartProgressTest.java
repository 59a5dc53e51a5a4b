package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client that asks for progress ({@code ?progress=1}) is accepted at once and told each step of
 * its session's start (queued, starting, running, ready) as a text frame before the first frame
 * of its backend; a client that does not ask never sees one. The real engine's steps are proven in
 * {@code DockerSessionTest}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StartProgressTest {

    private static final Duration LAUNCH_TIME = Duration.ofMillis(300);

    private Vertx vertx;
    private FakeLauncher launcher;
    private TestGateway gateway;
    private final List<RawWebSocket> clients = new ArrayList<>();

    @BeforeEach
    void start(Vertx vertx) {
        this.vertx = vertx;
        launcher = new FakeLauncher(vertx, LAUNCH_TIME);
    }

    @AfterEach
    void stop() throws Exception {
        for (RawWebSocket client : clients) {
            client.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        assertEquals(0, launcher.running(), "backends left running");
    }

    private TestGateway.Builder gatewayOn() {
        return TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher));
    }

    private RawWebSocket open(String from, String path, Map<String, String> headers) throws Exception {
        RawWebSocket client = RawWebSocket.open(InetAddress.getByName(from), gateway.port, path, headers);
        clients.add(client);
        return client;
    }

    /** The progress frames up to and including ready, then the backend's first frame. */
    private static List<JsonObject> stepsThenFirstFrame(RawWebSocket client) throws Exception {
        List<JsonObject> frames = new ArrayList<>();
        JsonObject frame;
        do {
            frame = new JsonObject(client.nextIgnoringPings().text());
            frames.add(frame);
        } while ("progress".equals(frame.getString("berth")));
        return frames;
    }

    private static List<String> phases(List<JsonObject> frames) {
        return frames.stream()
                .filter(frame -> "progress".equals(frame.getString("berth")))
                .map(frame -> frame.getString("phase"))
                .toList();
    }

    @Test
    void aClientThatAsksForProgressHearsEachStepBeforeItsBackendsFirstFrame() throws Exception {
        gateway = gatewayOn().sessions("launches: {maxConcurrent: 1, queue: 4}").start(vertx);
        long firstOpened = System.nanoTime();
        RawWebSocket first = open("127.0.0.2", "/ws?progress=1", Map.of());
        RawWebSocket second = open("127.0.0.3", "/ws?progress=1", Map.of());
        // The second's clock starts up to this much after the first launch began.
        long betweenOpensMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - firstOpened) + 1;
        assertEquals(101, first.status, "accepted before its session is ready");
        assertEquals(101, second.status, "accepted while its launch waits for a slot");

        List<JsonObject> firstFrames = stepsThenFirstFrame(first);
        List<JsonObject> secondFrames = stepsThenFirstFrame(second);

        assertEquals(List.of("starting", "running", "ready"), phases(firstFrames), "first: " + firstFrames);
        assertEquals(
                List.of("queued", "starting", "running", "ready"), phases(secondFrames), "second: " + secondFrames);
        assertEquals(0, secondFrames.get(0).getInteger("ahead"), "nothing queued before it: " + secondFrames);
        assertEquals("hello", firstFrames.get(firstFrames.size() - 1).getString("type"), "then the backend's frames");
        assertEquals("hello", secondFrames.get(secondFrames.size() - 1).getString("type"), "then the backend's frames");
        long firstReady = firstFrames.get(2).getLong("ms");
        long secondReady = secondFrames.get(3).getLong("ms");
        assertTrue(firstReady >= LAUNCH_TIME.toMillis(), "ready after the launch: " + firstFrames);
        assertTrue(
                secondReady >= 2 * LAUNCH_TIME.toMillis() - betweenOpensMs,
                "the queued one waited for the first launch (opens " + betweenOpensMs + "ms apart): " + secondFrames);

        byte[] payload = "after progress".getBytes();
        second.send(true, RawWebSocket.TEXT, payload);
        assertEquals("after progress", second.nextIgnoringPings().text(), "piped as any session");
    }

    @Test
    void aResumeClientHearsTheStepsBeforeTheGatewaysResumeAnswerAndItsFirstMessageWaitsForReady() throws Exception {
        gateway = gatewayOn().start(vertx);
        RawWebSocket client = open("127.0.0.2", "/ws?progress=1", Map.of("Sec-WebSocket-Protocol", "berth.resume.v1"));
        assertEquals("berth.resume.v1", client.headers.get("sec-websocket-protocol"));
        client.sendText("resume 0 -"); // at once, as berth.js does: it waits in the socket until ready
        List<String> phases = new ArrayList<>();
        String text = client.nextIgnoringPings().text();
        while (text.startsWith("{\"berth\":\"progress\"")) {
            phases.add(new JsonObject(text).getString("phase"));
            text = client.nextIgnoringPings().text();
        }
        assertEquals(List.of("starting", "running", "ready"), phases);
        assertTrue(text.matches("resume 0 [0-9a-f]{12}"), "then the gateway's resume answer: " + text);
        String hello = client.nextIgnoringPings().text();
        assertTrue(hello.startsWith("1 {\"type\":\"hello\""), "then message 1, the backend's hello: " + hello);
    }

    @Test
    void aClientThatComesBackToAReadySessionHearsOnlyReady() throws Exception {
        gateway = gatewayOn().start(vertx);
        RawWebSocket first = open("127.0.0.2", "/ws", Map.of());
        String token = first.headers.get(SessionWebSocketHandler.SESSION_HEADER.toLowerCase());
        assertEquals(
                "hello",
                new JsonObject(first.nextIgnoringPings().text()).getString("type"),
                "a client that did not ask hears no progress");
        first.close();

        RawWebSocket back =
                open("127.0.0.2", "/ws?progress=1", Map.of("Cookie", SessionWebSocketHandler.COOKIE + "=" + token));
        JsonObject ready = new JsonObject(back.nextIgnoringPings().text());
        assertEquals("ready", ready.getString("phase"), "its session runs already: " + ready);
        back.send(true, RawWebSocket.TEXT, "still mine".getBytes());
        assertEquals("still mine", back.nextIgnoringPings().text(), "then piped to its session");
        assertEquals(1, launcher.launches.get(), "no second launch");
    }

    /** Each start failure a launcher reports, with the close code and public reason docs/sessions.md gives it. */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
        "START_FAILED, 1011, the session's backend could not be started",
        "START_TIMEOUT, 1011, the session's backend took too long to start",
        "READY_TIMEOUT, 1011, the session's backend took too long to get ready",
        "EXITED_EARLY, 1011, the session's backend stopped while starting",
        "UNREACHABLE, 1011, the session's backend did not accept the connection",
        "LAUNCH_QUEUE_FULL, 1013, too many sessions are starting right now"
    })
    void aStartThatFailsAfterTheClientWasAcceptedEndsWithTheFailuresCloseCode(Failure failure, int code, String reason)
            throws Exception {
        launcher.failingLaunches(failure, "the launcher's own detail, for the log only");
        gateway = gatewayOn().start(vertx);
        RawWebSocket client = open("127.0.0.2", "/ws?progress=1", Map.of());
        assertEquals(101, client.status);
        assertEquals("starting", new JsonObject(client.nextIgnoringPings().text()).getString("phase"));
        RawWebSocket.Frame close = client.awaitClose();
        assertEquals(code, close.closeCode(), failure.tag() + "'s close code");
        assertEquals(
                reason,
                new String(close.payload(), 2, close.payload().length - 2, StandardCharsets.UTF_8),
                "its public reason, not the launcher's detail");
    }
}
