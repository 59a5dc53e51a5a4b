package dev.berth.handler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * RFC 6455 as the handler must keep it on its own, case by case after the Autobahn test suite:
 * UTF-8 of text messages (section 8.1), failing the connection with a close frame (7.1.7, 7.4.1),
 * never starting a message inside another (5.4), control frames between fragments (5.5). Plus
 * the probe command. A raw socket client sends what client libraries refuse to.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ConformanceTest {

    /** The lock of tests that count or make the handler's probe threads. */
    static final String PROBE_THREADS = "berth-probe threads";

    private static final HandlerConfig BASE =
            new HandlerConfig("127.0.0.1", "s-test", "9.9.9", 0, 60_000, 0, true, null);
    private static final byte[] KOSME = "κόσμε".getBytes(StandardCharsets.UTF_8);

    private final SessionState state = new SessionState("s-conformance");
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private HandlerServer server;
    private int port;

    /** Starts the handler's server (plain JDK); Vert.x is only the clients' side. */
    private void start(Vertx vertx, HandlerConfig config) throws Exception {
        HandlerLog log =
                new HandlerLog("s-test", new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        server = new HandlerServer(config, state, "test-host", log, () -> {});
        server.start();
        port = server.actualPort();
    }

    private TestClient connect(Vertx vertx) throws Exception {
        TestClient client = TestClient.connect(vertx, port, "/ws");
        closeables.add(client);
        client.nextOfType("hello");
        return client;
    }

    /** A raw client past the hello. */
    private RawClient raw() throws IOException {
        RawClient raw = RawClient.connect(port);
        closeables.add(raw);
        assertTrue(raw.read().text().startsWith("{\"type\":\"hello\""));
        return raw;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : closeables) {
            closeable.close();
        }
        if (server != null) {
            server.stop();
        }
    }

    // --- UTF-8 (section 8.1): invalid text fails the connection with 1007 ---------------------------

    @Test
    void invalidUtf8InASingleTextFrameClosesWith1007AndIsNotEchoed(Vertx vertx) throws Exception {
        start(vertx, BASE);
        assertFailsWith1007(
                List.of(), RawClient.frame(true, RawClient.TEXT, bytes(KOSME, hex("eda080"), ascii("edited"))));
        // A command is text too: checked before it is read as one.
        assertFailsWith1007(
                List.of(), RawClient.frame(true, RawClient.TEXT, bytes(ascii("{\"cmd\":\"state\"}"), hex("c0"))));
        assertEquals(0, state.framesReceived(), "nothing was echoed");
    }

    @Test
    void overlongSurrogateAndOutOfRangeSequencesCloseWith1007(Vertx vertx) throws Exception {
        start(vertx, BASE);
        for (String bad : List.of(
                "c080",
                "c1bf",
                "e080af",
                "f08080af",
                "eda080",
                "edbfbf",
                "eda080edb080",
                "f4908080",
                "f5808080",
                "fe",
                "ff",
                "80")) {
            assertFailsWith1007(List.of(), RawClient.frame(true, RawClient.TEXT, bytes(ascii("ok "), hex(bad))));
        }
        assertEquals(0, state.framesReceived());
    }

    @Test
    void aMultiByteCharacterSplitAcrossTwoFragmentsIsEchoedUnchanged(Vertx vertx) throws Exception {
        start(vertx, BASE);
        RawClient raw = raw();
        byte[] first = bytes(ascii("smile "), hex("f09f")); // 😀 is F0 9F 98 80
        byte[] second = bytes(hex("9880"), ascii("!"));
        raw.send(false, RawClient.TEXT, first);
        raw.send(true, RawClient.CONTINUATION, second);
        assertEquals(describe(false, RawClient.TEXT, first), describe(raw.read()));
        assertEquals(describe(true, RawClient.CONTINUATION, second), describe(raw.read()));
        raw.sendClose(1000, ascii("done"));
        assertEquals(1000, raw.read().closeCode(), "still open: the client's close is answered normally");
    }

    @Test
    void anInvalidByteInTheThirdFragmentClosesWith1007AfterEchoingOnlyTheFirstTwo(Vertx vertx) throws Exception {
        start(vertx, BASE);
        byte[] first = KOSME;
        byte[] second = ascii(" and ");
        byte[] third = bytes(ascii("x"), hex("f4908080"), ascii("y"));
        assertFailsWith1007(
                List.of(describe(false, RawClient.TEXT, first), describe(false, RawClient.CONTINUATION, second)),
                RawClient.frame(false, RawClient.TEXT, first),
                RawClient.frame(false, RawClient.CONTINUATION, second),
                RawClient.frame(false, RawClient.CONTINUATION, third));
        assertEquals(2, state.framesReceived());
    }

    @Test
    void aTextMessageEndingMidCodePointClosesWith1007(Vertx vertx) throws Exception {
        start(vertx, BASE);
        byte[] cutEuro = bytes(ascii("price 9 "), hex("e282")); // € is E2 82 AC
        assertFailsWith1007(List.of(), RawClient.frame(true, RawClient.TEXT, cutEuro));
        assertFailsWith1007(
                List.of(describe(false, RawClient.TEXT, ascii("price "))),
                RawClient.frame(false, RawClient.TEXT, ascii("price ")),
                RawClient.frame(true, RawClient.CONTINUATION, bytes(ascii("9 "), hex("e282"))));
    }

    @Test
    void binaryMessagesAreNotCheckedForUtf8(Vertx vertx) throws Exception {
        start(vertx, BASE);
        RawClient raw = raw();
        byte[] notUtf8 = hex("c080eda080fe");
        raw.send(false, RawClient.BINARY, notUtf8);
        raw.send(true, RawClient.CONTINUATION, hex("e282"));
        assertEquals(describe(false, RawClient.BINARY, notUtf8), describe(raw.read()));
        assertEquals(describe(true, RawClient.CONTINUATION, hex("e282")), describe(raw.read()));
    }

    // --- never a message inside a message (section 5.4), pings between fragments (5.5) ------------

    @Test
    void aFourMebibyteMessageInFourKibibyteFragmentsComesBackWholeWithNoListingInsideIt(Vertx vertx) throws Exception {
        start(vertx, BASE.withFeedPerSecond(1000));
        TestClient client = connect(vertx);
        client.nextOfType("listing");
        byte[] message = utf8Message(4 << 20);
        int fragment = 4 << 10;
        // The first fragment is ASCII, as textFrame takes a String; the others split multi-byte characters.
        client.send(WebSocketFrame.textFrame(new String(message, 0, fragment, StandardCharsets.US_ASCII), false));
        for (int from = fragment; from < message.length; from += fragment) {
            int to = Math.min(from + fragment, message.length);
            client.send(WebSocketFrame.continuationFrame(
                    Buffer.buffer(Arrays.copyOfRange(message, from, to)), to == message.length));
        }

        List<Long> seqs = new ArrayList<>();
        ByteArrayOutputStream echo = new ByteArrayOutputStream();
        int echoFrames = 0;
        while (true) {
            TestClient.Frame frame = client.nextFrame();
            if (echoFrames == 0 && frame.type() == WebSocketFrameType.TEXT && frame.fin()) {
                seqs.add(listingSeq(frame));
                continue;
            }
            assertEquals(
                    echoFrames == 0 ? WebSocketFrameType.TEXT : WebSocketFrameType.CONTINUATION,
                    frame.type(),
                    "frame " + echoFrames + " of the echo: nothing may come between its first and final frame");
            echo.write(frame.payload().getBytes());
            echoFrames++;
            if (frame.fin()) {
                break;
            }
        }
        assertEquals(message.length / fragment, echoFrames);
        assertArrayEquals(message, echo.toByteArray());
        seqs.add(client.nextOfType("listing").getLong("seq")); // the feed resumes
        for (int i = 1; i < seqs.size(); i++) {
            assertEquals(seqs.get(i - 1) + 1, seqs.get(i), "a held-off tick skips events but takes no seq: " + seqs);
        }
    }

    @Test
    void pingsBetweenFragmentsArePongedAndTheEchoStaysIntact(Vertx vertx) throws Exception {
        start(vertx, BASE.withFeedPerSecond(1000));
        TestClient client = connect(vertx);
        client.nextOfType("listing");
        // Pauses long enough for the feed (one tick every 10 ms) to want to write inside the message.
        client.send(WebSocketFrame.textFrame("one ", false));
        Thread.sleep(50);
        client.send(WebSocketFrame.pingFrame(Buffer.buffer("ping-1")));
        Thread.sleep(50);
        client.send(WebSocketFrame.continuationFrame(Buffer.buffer("two "), false));
        Thread.sleep(50);
        client.send(WebSocketFrame.pingFrame(Buffer.buffer("ping-2")));
        Thread.sleep(50);
        client.send(WebSocketFrame.continuationFrame(Buffer.buffer("three"), true));

        TestClient.Frame frame = client.nextFrame();
        while (frame.type() == WebSocketFrameType.TEXT && frame.fin()) {
            listingSeq(frame); // listings before the echo
            frame = client.nextFrame();
        }
        assertEquals(new TestClient.Frame(WebSocketFrameType.TEXT, false, Buffer.buffer("one ")), frame);
        assertEquals(
                new TestClient.Frame(WebSocketFrameType.CONTINUATION, false, Buffer.buffer("two ")),
                client.nextFrame());
        assertEquals(
                new TestClient.Frame(WebSocketFrameType.CONTINUATION, true, Buffer.buffer("three")),
                client.nextFrame());
        assertEquals(Buffer.buffer("ping-1"), client.pongs.poll(TestClient.WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(Buffer.buffer("ping-2"), client.pongs.poll(TestClient.WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(2, state.pingsReceived());
        assertEquals("listing", client.nextOfType("listing").getString("type"), "the feed resumes");
    }

    // --- frames the decoder rejects: a close frame with the reason, not a dropped connection -------

    @Test
    void invalidCloseCodesAndCloseReasonsAreAnsweredWith1002(Vertx vertx) throws Exception {
        start(vertx, BASE);
        for (int code : new int[] {0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999}) {
            assertFailsWith(1002, List.of(), closeFrame(code, new byte[0]));
        }
        assertFailsWith(1002, List.of(), closeFrame(1000, bytes(KOSME, hex("eda080"), ascii("edited"))));
        assertFailsWith(1002, List.of(), RawClient.frame(true, RawClient.CLOSE, hex("03"))); // a 1-byte body
        for (int code : new int[] {1000, 1001, 1003, 1007, 1011, 3000, 4999}) {
            try (RawClient raw = raw()) {
                raw.sendClose(code, ascii("fine"));
                assertEquals(code, raw.readToEnd().close().closeCode(), "a valid close code is echoed");
            }
        }
    }

    @Test
    void framesTheDecoderRejectsAreAnsweredWith1002(Vertx vertx) throws Exception {
        start(vertx, BASE);
        byte[] x = ascii("x");
        for (int rsv : new int[] {0x40, 0x20, 0x10}) {
            assertFailsWith(1002, List.of(), RawClient.frame(0x80 | rsv | RawClient.TEXT, x));
        }
        for (int opcode : new int[] {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
            assertFailsWith(1002, List.of(), RawClient.frame(true, opcode, x));
        }
        assertFailsWith(1002, List.of(), RawClient.frame(false, RawClient.PING, x)); // fragmented control
        assertFailsWith(
                1002, List.of(), RawClient.frame(true, RawClient.PING, new byte[126])); // control over 125 bytes
        assertFailsWith(1002, List.of(), RawClient.frame(true, RawClient.CONTINUATION, x)); // nothing to continue
        // A new message before the last one's final frame, read in the same go as the first
        // fragment: the fragment's echo and the close frame both still reach the client.
        assertFailsWith(
                1002,
                List.of(describe(false, RawClient.TEXT, ascii("a"))),
                RawClient.frame(false, RawClient.TEXT, ascii("a")),
                RawClient.frame(true, RawClient.TEXT, ascii("b")));
    }

    @Test
    void aFrameOverTheSizeLimitIsAnsweredWith1009(Vertx vertx) throws Exception {
        start(vertx, BASE);
        try (RawClient raw = raw()) {
            raw.sendHeader(0x80 | RawClient.BINARY, HandlerServer.MAX_WEBSOCKET_SIZE + 1L);
            RawClient.Ending end = raw.readToEnd();
            assertNotNull(end.close(), "a close frame, not a dropped connection");
            assertEquals(1009, end.close().closeCode());
        }
    }

    // --- probe ------------------------------------------------------------------------------------

    @Test
    void probeOfAListeningPortIsReachable(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        try (ServerSocket listening = new ServerSocket(0)) { // all addresses: "localhost" may resolve to ::1
            int target = listening.getLocalPort();
            client.send("{\"cmd\":\"probe\",\"host\":\"127.0.0.1\",\"port\":" + target + "}");
            assertEquals(
                    new JsonObject()
                            .put("type", "probe")
                            .put("host", "127.0.0.1")
                            .put("port", target)
                            .put("reachable", true),
                    client.nextOfType("probe"));
            client.send("{\"cmd\":\"probe\",\"host\":\"localhost\",\"port\":" + target + ",\"timeoutMs\":5000}");
            assertTrue(client.nextOfType("probe").getBoolean("reachable"), "a host name is resolved first");
        }
    }

    @Test
    void probeOfAClosedPortIsUnreachableAndSaysWhy(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        client.send("{\"cmd\":\"probe\",\"host\":\"127.0.0.1\",\"port\":" + closed + "}");
        JsonObject reply = client.nextOfType("probe");
        assertEquals(false, reply.getBoolean("reachable"), reply.encode());
        assertEquals(closed, reply.getInteger("port"));
        assertTrue(reply.getString("error").toLowerCase().contains("refused"), reply.encode());
    }

    @Test
    void probeWithBadArgumentsAnswersAnError(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        for (String bad : List.of(
                "\"port\":80",
                "\"host\":\"\",\"port\":80",
                "\"host\":\"a b\",\"port\":80",
                "\"host\":\"" + "a".repeat(256) + "\",\"port\":80",
                "\"host\":\"h\"",
                "\"host\":\"h\",\"port\":0",
                "\"host\":\"h\",\"port\":65536",
                "\"host\":\"h\",\"port\":\"80\"",
                "\"host\":\"h\",\"port\":80,\"timeoutMs\":0",
                "\"host\":\"h\",\"port\":80,\"timeoutMs\":5001")) {
            client.send("{\"cmd\":\"probe\"," + bad + "}");
            String message = client.nextOfType("error").getString("message");
            assertTrue(message.startsWith("probe needs"), bad + ": " + message);
        }
    }

    @Test
    void aProbeAnswerThatFallsDueMidMessageWaitsForTheFinalFragment(Vertx vertx) throws Exception {
        start(vertx, BASE);
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> queued = fillAcceptQueue(full);
            closeables.addAll(queued);
            RawClient raw = raw();
            raw.send(
                    true,
                    RawClient.TEXT,
                    ascii("{\"cmd\":\"probe\",\"host\":\"127.0.0.1\",\"port\":" + full.getLocalPort()
                            + ",\"timeoutMs\":200}"));
            raw.send(false, RawClient.TEXT, ascii("first"));
            Thread.sleep(700); // the probe times out meanwhile
            raw.send(true, RawClient.CONTINUATION, ascii("final"));
            assertEquals(describe(false, RawClient.TEXT, ascii("first")), describe(raw.read()));
            assertEquals(describe(true, RawClient.CONTINUATION, ascii("final")), describe(raw.read()));
            JsonObject reply = new JsonObject(raw.read().text());
            assertEquals("probe", reply.getString("type"), reply.encode());
            assertEquals(false, reply.getBoolean("reachable"), reply.encode());
            assertTrue(reply.getString("error").contains("timed out"), reply.encode());
        }
    }

    /**
     * Probes that never answer (a full accept queue drops the SYN) sent all at once: only
     * {@link TestHooks#MAX_PROBES} run, each further one is refused at once with an error and
     * starts no thread; when the running ones have answered, a probe runs again.
     */
    @Test
    // Counts the JVM's probe threads: no other test may make any meanwhile. Only this class's tests
    // probe (HandlerServerTest's one probe is refused without its test hooks), and they run one after
    // another; the lock says so, without holding every other class back as a global lock did.
    @ResourceLock(PROBE_THREADS)
    void probesOverTheLimitAreRefusedAndStartNoThread(Vertx vertx) throws Exception {
        start(vertx, BASE);
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            closeables.addAll(fillAcceptQueue(full));
            RawClient raw = raw();
            int probes = 3 * TestHooks.MAX_PROBES;
            long threadsBefore = probeThreads();
            byte[][] frames = new byte[probes + 1][];
            for (int i = 0; i < probes; i++) {
                frames[i] = RawClient.frame(
                        true,
                        RawClient.TEXT,
                        ascii("{\"cmd\":\"probe\",\"host\":\"127.0.0.1\",\"port\":" + full.getLocalPort()
                                + ",\"timeoutMs\":3000}"));
            }
            frames[probes] = RawClient.frame(true, RawClient.TEXT, ascii("{\"cmd\":\"state\"}"));
            raw.sendTogether(frames);

            List<String> errors = new ArrayList<>();
            for (JsonObject reply = nextOwn(raw); !"state".equals(reply.getString("type")); reply = nextOwn(raw)) {
                assertEquals("error", reply.getString("type"), reply.encode());
                errors.add(reply.getString("message"));
            }
            // Every probe command was handled by now (the state command came last).
            long threads = probeThreads() - threadsBefore;
            assertTrue(
                    threads <= TestHooks.MAX_PROBES,
                    threads + " probe threads for " + probes + " probes at once, at most " + TestHooks.MAX_PROBES
                            + " allowed");
            assertEquals(probes - TestHooks.MAX_PROBES, errors.size(), errors.toString());
            for (String message : errors) {
                assertTrue(
                        message.startsWith("probe refused: " + TestHooks.MAX_PROBES + " probes are running"), message);
            }
            for (int i = 0; i < TestHooks.MAX_PROBES; i++) {
                JsonObject answer = nextOwn(raw);
                assertEquals("probe", answer.getString("type"), answer.encode());
                assertTrue(answer.getString("error").contains("timed out"), answer.encode());
            }

            // Their slots come free: a probe runs again (a timed-out one holds its slot until its
            // connect gives up too, a moment after the answer).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TestClient.WAIT_SECONDS);
            JsonObject again;
            do {
                raw.send(
                        true,
                        RawClient.TEXT,
                        ascii("{\"cmd\":\"probe\",\"host\":\"127.0.0.1\",\"port\":" + listening.getLocalPort() + "}"));
                again = nextOwn(raw);
                if ("error".equals(again.getString("type"))) {
                    Thread.sleep(50);
                }
            } while ("error".equals(again.getString("type")) && System.nanoTime() < deadline);
            assertEquals(
                    new JsonObject()
                            .put("type", "probe")
                            .put("host", "127.0.0.1")
                            .put("port", listening.getLocalPort())
                            .put("reachable", true),
                    again);
        }
    }

    /** Live threads the handler runs probes on. */
    private static long probeThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("berth-probe"))
                .count();
    }

    /** The next of the handler's own messages (pongs skipped). */
    private static JsonObject nextOwn(RawClient raw) throws IOException {
        RawClient.Frame frame = raw.read();
        while (frame != null && frame.opcode() == RawClient.PONG) {
            frame = raw.read();
        }
        assertNotNull(frame, "connection ended");
        assertEquals(RawClient.TEXT, frame.opcode(), describe(frame));
        return new JsonObject(frame.text());
    }

    /**
     * Connects until the listening socket's accept queue is full, so the next connect hangs (Linux
     * drops the SYN) as one to a host that does not answer would.
     */
    private static List<Socket> fillAcceptQueue(ServerSocket server) throws IOException {
        List<Socket> queued = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 300);
                queued.add(socket);
            } catch (SocketTimeoutException e) {
                socket.close();
                return queued;
            }
        }
        assumeTrue(false, "connects to a full accept queue do not hang here");
        return queued;
    }

    // --- helpers ----------------------------------------------------------------------------------

    private void assertFailsWith1007(List<String> echoed, byte[]... frames) throws IOException {
        assertFailsWith(1007, echoed, frames);
    }

    /** Sends {@code frames} in one write on a new connection; expects exactly {@code echoed} back, then a close with {@code code}. */
    private void assertFailsWith(int code, List<String> echoed, byte[]... frames) throws IOException {
        String sent = Arrays.stream(frames)
                .map(f -> HexFormat.of().formatHex(f))
                .toList()
                .toString();
        try (RawClient raw = raw()) {
            raw.sendTogether(frames);
            RawClient.Ending end = raw.readToEnd();
            assertNotNull(end.close(), sent + ": a close frame, not a dropped connection");
            assertEquals(
                    code, end.close().closeCode(), sent + ": " + end.close().closeReason());
            assertEquals(
                    echoed,
                    end.dataFrames().stream().map(ConformanceTest::describe).toList(),
                    sent);
        }
    }

    private static byte[] closeFrame(int code, byte[] reason) {
        return RawClient.frame(true, RawClient.CLOSE, bytes(new byte[] {(byte) (code >> 8), (byte) code}, reason));
    }

    private static String describe(boolean fin, int opcode, byte[] payload) {
        return "opcode " + opcode + (fin ? " fin " : " more ") + HexFormat.of().formatHex(payload);
    }

    private static String describe(RawClient.Frame frame) {
        assertNotNull(frame, "connection ended");
        return describe(frame.fin(), frame.opcode(), frame.payload());
    }

    private static long listingSeq(TestClient.Frame frame) {
        JsonObject json = frame.json();
        assertEquals("listing", json.getString("type"), json.encode());
        return json.getLong("seq");
    }

    /** {@code length} bytes of UTF-8: 4 KiB of ASCII, then 1 to 4 byte characters in turn. */
    private static byte[] utf8Message(int length) {
        byte[] message = new byte[length];
        Arrays.fill(message, 0, 4096, (byte) 'a');
        byte[] pattern = "bé€😀".getBytes(StandardCharsets.UTF_8); // 10 bytes
        int i = 4096;
        for (; i + pattern.length <= length; i += pattern.length) {
            System.arraycopy(pattern, 0, message, i, pattern.length);
        }
        Arrays.fill(message, i, length, (byte) 'z');
        return message;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    private static byte[] bytes(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }
}
