package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FlakyLink;
import dev.berth.gateway.FragmentedEcho;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.ResumingClient;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Flow control through the pipe, on the shipped buffer defaults unless a test says otherwise: what
 * is held pauses the backend well before anything could end the session, a message of many small
 * fragments passes whole both ways, and a client the gateway stopped reading is not taken for dead.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@Tag("long")
class FlowControlTest extends FakeLauncherGatewayTest {

    private static final int FRAGMENTS = 65_536; // 4 MiB in 64-byte fragments, Autobahn's case 9.3.1

    @Test
    void aFourMebibyteTextMessageIn64ByteFragmentsIsEchoedWhole() throws Exception {
        echoFragmented(RawWebSocket.TEXT);
    }

    @Test
    void aFourMebibyteBinaryMessageIn64ByteFragmentsIsEchoedWhole() throws Exception {
        echoFragmented(RawWebSocket.BINARY);
    }

    /** The fake backend echoes frame by frame, as the shipped handler does, so all 65,536 fragments come back. */
    private void echoFragmented(int opcode) throws Exception {
        gateway = gatewayOn().start(vertx);
        try (RawWebSocket client = RawWebSocket.open(gateway.port, Map.of())) {
            assertEquals(101, client.status);
            RawWebSocket.Frame hello = client.nextIgnoringPings();
            assertTrue(hello.text().contains("hello"), hello.text());
            FragmentedEcho.assertEchoedWhole(client, opcode, FRAGMENTS, 64, 60);
        }
        assertEquals(0, endedFor("buffer_overflow"));
    }

    @Test
    void aClientTheGatewayStopsReadingIsNotTakenForDeadByTheKeepalive() throws Exception {
        gateway = gatewayOn().keepalive("1s").start(vertx);
        try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
            String key = client.hello().getString("session");
            launcher.backend(key).stall(Duration.ofSeconds(5)); // over four keepalive intervals
            Buffer chunk = Buffer.buffer(new byte[64 << 10]);
            for (int i = 0; i < 400; i++) { // 25 MiB: more than the sockets between hold, so the gateway stops reading
                client.socket().writeBinaryMessage(chunk);
            }
            for (int i = 0; i < 400; i++) {
                WebSocketFrame echo = client.nextDataFrame();
                assertEquals(64 << 10, echo.binaryData().length(), "echo " + i);
            }
            assertTrue(
                    !client.socket().isClosed(),
                    () -> "still attached, closed with " + client.socket().closeStatusCode());
        }
    }

    @Test
    void aResumeClientThatDropsHoldingMoreThanTheBufferUnacknowledgedFindsItsSessionWaiting() throws Exception {
        gateway = gatewayOn().buffer("64k", 1000).start(vertx);
        try (FlakyLink link = new FlakyLink(vertx, gateway.port);
                ResumingClient client = new ResumingClient(vertx).ackEvery(Integer.MAX_VALUE)) {
            client.connect(link.port);
            assertTrue(client.receiveUntil("{\"type\":\"hello\"", 1));
            FakeLauncher.EchoBackend backend = launcher.backends().get(0);
            var pushed = backend.pushMany("p", 300, 1024); // 300 KiB, nearly five times the buffer
            client.receiveUntil("p", 20); // reads, acknowledges nothing: the backend waits at half the buffer
            link.cut();
            Thread.sleep(500); // what was on its way arrives while no client is attached
            assertEquals(0, endedFor("buffer_overflow"), "the drop did not end the session");
            client.ackEvery(1).connect(link.port);
            assertTrue(client.receiveUntil("p", 300));
            pushed.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
            assertEquals(List.of(), client.violations());
            assertEquals(
                    numbered("p", 300),
                    client.received().stream()
                            .filter(text -> text.startsWith("p"))
                            .map(text -> text.substring(0, text.indexOf(' ')))
                            .toList());
        }
    }

    @Test
    void aBackendSendingMoreThanTheBufferToAnAbsentClientWaitsForItInsteadOfEnding() throws Exception {
        gateway = gatewayOn().buffer("64k", 1000).start(vertx);
        String token;
        try (FrameClient first = FrameClient.connect(vertx, gateway.port, null)) {
            String key = first.hello().getString("session");
            token = first.sessionToken();
            first.leave();
            Thread.sleep(200);
            launcher.backend(key).pushMany("p", 300, 1024); // nearly five times the buffer, to no one
        }
        Thread.sleep(500);
        assertEquals(0, endedFor("buffer_overflow"));
        try (FrameClient back = FrameClient.connect(vertx, gateway.port, token)) {
            List<String> got = new ArrayList<>();
            while (got.size() < 300) {
                String text = back.nextDataFrame().textData();
                got.add(text.substring(0, text.indexOf(' ')));
            }
            assertEquals(numbered("p", 300), got, "everything, in order, once");
            assertNull(back.pollFrame(200), "and nothing more");
        }
    }

    @Test
    void aMessageLargerThanTheBufferSentToAnAbsentClientEndsTheSessionWithBufferOverflow() throws Exception {
        gateway = gatewayOn().buffer("64k", 1000).start(vertx);
        try (FrameClient first = FrameClient.connect(vertx, gateway.port, null)) {
            String key = first.hello().getString("session");
            first.leave();
            dev.berth.gateway.Await.until(() -> gateway.get("/health").contains("\"detached\":1"), 5_000, "detached");
            launcher.backend(key).pushFragmented(200, 1024); // one message of 200 KiB: it cannot be held whole
        }
        dev.berth.gateway.Await.until(() -> endedFor("buffer_overflow") == 1, 10_000, "ended for what it held");
    }

    private static List<String> numbered(String prefix, int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add(prefix + i);
        }
        return names;
    }

    private double endedFor(String reason) {
        return metric("berth_sessions_ended_total{reason=\"" + reason + "\",route=\"" + gateway.route + "\"}");
    }

    private double metric(String series) {
        return gateway.get("/metrics")
                .lines()
                .filter(line -> line.startsWith(series + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElse(-1);
    }
}
