package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A session's pipe lives on the event loop its first client arrived on; a client that comes back
 * lands on whichever loop the kernel deals its connection to, and must be piped all the same.
 * With two loops, connections alternate between them, so every other visit is on the other loop.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CrossLoopPipeTest {

    private static final int MESSAGES = 300;

    private FakeLauncher launcher;
    private TestGateway gateway;

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void aClientThatComesBackOnAnotherEventLoopIsPipedToItsSessionBothWaysInOrder(Vertx vertx) throws Exception {
        launcher = new FakeLauncher(vertx, Duration.ZERO);
        gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .listen("eventLoops: 2")
                .start(vertx);
        String token = null;
        for (int visit = 0; visit < 4; visit++) {
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, token)) {
                if (token == null) {
                    token = client.sessionToken();
                    client.hello();
                }
                for (int i = 0; i < MESSAGES; i++) {
                    client.socket().writeTextMessage("visit " + visit + " message " + i);
                }
                Buffer large = Buffer.buffer(new byte[64 << 10]).setInt(0, visit);
                client.socket().writeBinaryMessage(large);
                for (int i = 0; i < MESSAGES; i++) {
                    assertEquals(
                            "visit " + visit + " message " + i,
                            client.nextDataFrame().textData(),
                            "echoed in order");
                }
                assertEquals(large, client.nextDataFrame().binaryData(), "a 64 KiB message whole");
                assertEquals(token, client.sessionToken(), "the same session on every visit");
                client.leave();
            }
        }
        String metrics = gateway.get("/metrics");
        assertTrue(attachments(metrics, "same") >= 1, metrics);
        assertTrue(attachments(metrics, "other") >= 1, "some visits came on the other loop:\n" + metrics);
        assertEquals(1, launcher.launches.get(), "one backend for all four visits");
    }

    @Test
    void aClientThatEndsItsSessionWith1000AndComesBackAtOnceGetsANewSession(Vertx vertx) throws Exception {
        String token = sessionLeftByItsFirstClient(vertx);
        for (int visit = 0; visit < 100; visit++) {
            try (RawWebSocket raw = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
                assertEquals(101, raw.status, "visit " + visit + " joins its session");
                raw.send(
                        true,
                        RawWebSocket.CLOSE,
                        RawWebSocket.closePayload(1000, new byte[0])); // done with the session
                raw.awaitClose();
            }
            // At once, as a browser reloading a page would: the session the client just ended must not take it.
            try (RawWebSocket again = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
                assertEquals(101, again.status);
                String next = again.headers.get("berth-session");
                assertNotEquals(token, next, "visit " + visit + ": a new session, not the one that is ending");
                again.setReadTimeout(300);
                RawWebSocket.Frame frame = again.nextIgnoringPings(); // its backend's hello, or nothing within 300 ms
                assertTrue(
                        frame == null || frame.opcode() != RawWebSocket.CLOSE,
                        "visit " + visit + ": the new session stays open, got close "
                                + (frame == null ? "" : frame.closeCode()));
                token = next;
            }
        }
    }

    @Test
    void aClientThatClosesWithoutACodeOnlyLeavesAndComingBackAtOnceGetsItsSession(Vertx vertx) throws Exception {
        String token = sessionLeftByItsFirstClient(vertx);
        for (int visit = 0; visit < 100; visit++) {
            try (RawWebSocket raw = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
                assertEquals(101, raw.status, "visit " + visit + " joins its session");
                assertEquals(token, raw.headers.get("berth-session"), "visit " + visit + ": its own session");
                raw.send(true, RawWebSocket.CLOSE, new byte[0]); // no code: a library's default close, not an end
                assertTrue(raw.awaitClose() != null, "visit " + visit + ": the close is answered");
            }
        }
        assertEquals(1, launcher.launches.get(), "one backend for all hundred visits");
    }

    /** Starts the gateway on two loops and a session whose first client has left; its token. */
    private String sessionLeftByItsFirstClient(Vertx vertx) throws Exception {
        launcher = new FakeLauncher(vertx, Duration.ZERO);
        gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .listen("eventLoops: 2")
                .start(vertx);
        try (FrameClient first = FrameClient.connect(vertx, gateway.port, null)) {
            first.hello();
            first.leave();
            return first.sessionToken();
        }
    }

    /** The next text message, whatever fragments it came in. */
    private static String wholeMessage(FrameClient client) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        WebSocketFrame frame;
        do {
            frame = client.nextDataFrame();
            text.append(frame.binaryData().toString(StandardCharsets.UTF_8));
        } while (!frame.isFinal());
        return text.toString();
    }

    private static double attachments(String metrics, String loop) {
        Matcher value = Pattern.compile("berth_client_attachments_total\\{loop=\"" + loop + "\"} ([0-9.]+)")
                .matcher(metrics);
        return value.find() ? Double.parseDouble(value.group(1)) : 0;
    }
}
