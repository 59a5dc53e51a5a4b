package dev.berth.gateway.edge;

import static dev.berth.gateway.RawWebSocket.BINARY;
import static dev.berth.gateway.RawWebSocket.CLOSE;
import static dev.berth.gateway.RawWebSocket.CONTINUATION;
import static dev.berth.gateway.RawWebSocket.PING;
import static dev.berth.gateway.RawWebSocket.PONG;
import static dev.berth.gateway.RawWebSocket.TEXT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * RFC 6455 at the edge, from the RFC's own cases, with a raw client that sends what a library
 * would not. Every protocol error is answered with a close frame carrying its code (1002, 1007,
 * 1009), never a dropped socket, and nothing invalid reaches the backend (an in-JVM echo that
 * counts what it gets; DockerSessionTest proves the real engine).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EdgeConformanceTest {

    private static final byte[] INVALID_UTF8 = {
        (byte) 0xCE,
        (byte) 0xBA,
        (byte) 0xE1,
        (byte) 0xBD,
        (byte) 0xB9,
        (byte) 0xCF,
        (byte) 0x83,
        (byte) 0xCE,
        (byte) 0xBC,
        (byte) 0xCE,
        (byte) 0xB5,
        (byte) 0xED,
        (byte) 0xA0,
        (byte) 0x80,
        0x65,
        0x64,
        0x69,
        0x74,
        0x65,
        0x64
    }; // Autobahn 6.4.x: a surrogate in the middle

    private Vertx vertx;
    private FakeLauncher launcher;
    private TestGateway gateway;

    @BeforeEach
    void start(Vertx vertx) throws Exception {
        this.vertx = vertx;
        launcher = new FakeLauncher(vertx, Duration.ofMillis(1));
        gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .maxFrameSize("64k")
                .maxMessageSize("128k")
                .start(vertx);
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        assertEquals(0, launcher.running(), "backends left running");
    }

    private RawWebSocket connect() throws Exception {
        RawWebSocket client = RawWebSocket.open(gateway.port, Map.of());
        assertEquals(101, client.status);
        RawWebSocket.Frame hello = client.nextIgnoringPings();
        assertTrue(hello.text().contains("\"hello\""), hello.text());
        return client;
    }

    private String keyOf(RawWebSocket client) {
        return client.headers.get("berth-session") == null
                ? null
                : dev.berth.gateway.session.SessionId.keyOf(client.headers.get("berth-session"));
    }

    /** One close frame with {@code code}, then the connection closes at once (no second close, no wait). */
    private void assertClosedWith(int code, RawWebSocket client) throws Exception {
        RawWebSocket.Frame close = client.awaitClose();
        assertNotNull(close, "a close frame, not a dropped connection");
        assertEquals(code, close.closeCode(), "close code");
        client.setReadTimeout(3000);
        long start = System.nanoTime();
        RawWebSocket.Frame after = client.next();
        assertEquals(
                null,
                after,
                "nothing after the close frame, got "
                        + (after == null ? "" : after.opcode() + " " + after.closeCode()));
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "the connection closed at once");
    }

    @Test
    void pingIsAnsweredByTheGatewayWithExactlyOnePong() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, PING, "hi".getBytes(StandardCharsets.US_ASCII));
            RawWebSocket.Frame pong = client.nextIgnoringPings();
            assertEquals(PONG, pong.opcode());
            assertEquals("hi", pong.text());
            client.setReadTimeout(500);
            RawWebSocket.Frame more = client.nextIgnoringPings();
            assertTrue(more == null, "one pong only, got another frame: " + more);
        }
    }

    @Test
    void reservedBitsAreAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, 0b100, TEXT, "rsv1".getBytes(StandardCharsets.US_ASCII), true);
            assertClosedWith(1002, client);
        }
    }

    @Test
    void unknownOpcodeIsAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, 0, 0x3, new byte[0], true);
            assertClosedWith(1002, client);
        }
    }

    @Test
    void fragmentedPingIsAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(false, PING, "half".getBytes(StandardCharsets.US_ASCII));
            assertClosedWith(1002, client);
        }
    }

    @Test
    void controlFrameLongerThan125BytesIsAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, PING, new byte[126]);
            assertClosedWith(1002, client);
        }
    }

    @Test
    void continuationWithoutAMessageIsAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, CONTINUATION, "orphan".getBytes(StandardCharsets.US_ASCII));
            assertClosedWith(1002, client);
        }
    }

    @Test
    void newMessageInsideAFragmentedOneIsAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(false, TEXT, "first".getBytes(StandardCharsets.US_ASCII));
            client.send(true, TEXT, "second".getBytes(StandardCharsets.US_ASCII));
            assertClosedWith(1002, client);
        }
    }

    @Test
    void unmaskedClientFrameIsAProtocolError() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, 0, TEXT, "bare".getBytes(StandardCharsets.US_ASCII), false);
            assertClosedWith(1002, client);
        }
    }

    @Test
    void invalidUtf8InATextMessageIs1007AndNeverReachesTheBackend() throws Exception {
        try (RawWebSocket client = connect()) {
            String key = keyOf(client);
            client.sendText("valid");
            assertEquals("valid", client.nextIgnoringPings().text(), "piped both ways");
            client.send(true, TEXT, INVALID_UTF8);
            assertClosedWith(1007, client);
            // The session hears of the close after the pipe dealt with every frame before it.
            Await.until(() -> gateway.get("/health").contains("\"detached\":1"), 10_000, "the session waits detached");
            assertEquals(
                    1,
                    launcher.backend(key).framesReceived.get(),
                    "the backend saw the valid frame, never the invalid one");
        }
    }

    @Test
    void invalidUtf8InALaterFragmentFailsAtThatFragment() throws Exception {
        try (RawWebSocket client = connect()) {
            String key = keyOf(client);
            client.send(false, TEXT, "valid ".getBytes(StandardCharsets.UTF_8));
            client.send(false, CONTINUATION, "still valid ".getBytes(StandardCharsets.UTF_8));
            client.send(true, CONTINUATION, new byte[] {(byte) 0xC0, (byte) 0x80}); // overlong NUL
            assertClosedWith(1007, client);
            Await.until(
                    () -> launcher.backend(key).framesReceived.get() == 3,
                    10_000,
                    "two valid fragments, then the message was ended for the backend with an empty final fragment: "
                            + launcher.backend(key).framesReceived.get());
        }
    }

    @Test
    void aCodePointSplitAcrossFragmentsPassesWhole() throws Exception {
        try (RawWebSocket client = connect()) {
            byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
            client.send(false, TEXT, new byte[] {'a', euro[0]});
            client.send(true, CONTINUATION, new byte[] {euro[1], euro[2]});
            java.io.ByteArrayOutputStream echoed = new java.io.ByteArrayOutputStream();
            for (RawWebSocket.Frame frame = client.nextIgnoringPings(); ; frame = client.nextIgnoringPings()) {
                echoed.write(frame.payload());
                if (frame.fin()) {
                    break;
                }
            }
            assertEquals("a€", echoed.toString(StandardCharsets.UTF_8), "the message, byte for byte");
        }
    }

    @Test
    void aMessageEndingInTheMiddleOfACodePointIs1007() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, TEXT, new byte[] {'a', (byte) 0xE2, (byte) 0x82});
            assertClosedWith(1007, client);
        }
    }

    @Test
    void invalidCloseCodesAreAProtocolError() throws Exception {
        for (int code : new int[] {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2999, 5000, 65535}) {
            try (RawWebSocket client = connect()) {
                client.send(true, CLOSE, RawWebSocket.closePayload(code, new byte[0]));
                assertClosedWith(1002, client);
            }
        }
    }

    @Test
    void oneByteClosePayloadIsAProtocolErrorAndAnInvalidReasonIs1007() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, CLOSE, new byte[] {0x03});
            assertClosedWith(1002, client);
        }
        try (RawWebSocket client = connect()) {
            client.send(true, CLOSE, RawWebSocket.closePayload(1000, new byte[] {(byte) 0xFF}));
            assertClosedWith(1007, client); // RFC 6455 §8.1: a close reason is UTF-8 too
        }
        try (RawWebSocket client = connect()) {
            client.send(true, CLOSE, RawWebSocket.closePayload(1000, new byte[] {'a', 'b', (byte) 0xE2, (byte) 0x82}));
            assertClosedWith(1007, client); // a reason cut inside a code point
        }
    }

    @Test
    void aValidCloseIsAnsweredWithTheSameCode() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, CLOSE, RawWebSocket.closePayload(1000, "bye".getBytes(StandardCharsets.UTF_8)));
            assertClosedWith(1000, client);
        }
    }

    @Test
    void frameLargerThanTheLimitIs1009() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(true, BINARY, new byte[65 << 10]);
            assertClosedWith(1009, client);
        }
    }

    @Test
    void messageLargerThanTheLimitAcrossFragmentsIs1009() throws Exception {
        try (RawWebSocket client = connect()) {
            String key = keyOf(client);
            client.send(false, BINARY, new byte[60 << 10]);
            client.send(false, CONTINUATION, new byte[60 << 10]);
            client.send(true, CONTINUATION, new byte[60 << 10]);
            assertClosedWith(1009, client);
            Await.until(
                    () -> launcher.backend(key).framesReceived.get() == 3,
                    10_000,
                    "two fragments within the limit, then an empty final one: "
                            + launcher.backend(key).framesReceived.get());
        }
    }

    @Test
    void pingsBetweenFragmentsAreAnsweredAndTheMessagePassesWhole() throws Exception {
        try (RawWebSocket client = connect()) {
            client.send(false, TEXT, "frag1 ".getBytes(StandardCharsets.UTF_8));
            client.send(true, PING, "p1".getBytes(StandardCharsets.US_ASCII));
            client.send(false, CONTINUATION, "frag2 ".getBytes(StandardCharsets.UTF_8));
            client.send(true, PING, "p2".getBytes(StandardCharsets.US_ASCII));
            client.send(true, CONTINUATION, "frag3".getBytes(StandardCharsets.UTF_8));
            StringBuilder echoed = new StringBuilder();
            int pongs = 0;
            while (pongs < 2 || echoed.indexOf("frag3") < 0) {
                RawWebSocket.Frame frame = client.nextIgnoringPings();
                assertNotNull(frame);
                if (frame.opcode() == PONG) {
                    pongs++;
                } else {
                    echoed.append(frame.text());
                }
            }
            assertEquals("frag1 frag2 frag3", echoed.toString());
            assertEquals(2, pongs);
        }
    }

    @Test
    void aProtocolErrorLosesNothingTheSessionWaitsForTheClient() throws Exception {
        String token;
        try (RawWebSocket client = connect()) {
            token = client.headers.get("berth-session");
            client.send(true, 0, 0x3, new byte[0], true);
            assertClosedWith(1002, client);
        }
        Await.until(() -> gateway.get("/health").contains("\"detached\":1"), 10_000, "the session waits detached");
        try (RawWebSocket back = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
            assertEquals(101, back.status);
            back.sendText("still mine");
            assertEquals("still mine", back.nextIgnoringPings().text());
        }
    }

    @Test
    void binaryPassesByteForByte() throws Exception {
        try (RawWebSocket client = connect()) {
            byte[] payload = new byte[1000];
            new java.util.Random(7).nextBytes(payload);
            client.send(true, BINARY, payload);
            assertArrayEquals(payload, client.nextIgnoringPings().payload());
        }
    }
}
