package dev.berth.gateway.pipe;

import static dev.berth.gateway.launcher.RawBackendLauncher.BINARY;
import static dev.berth.gateway.launcher.RawBackendLauncher.CLOSE;
import static dev.berth.gateway.launcher.RawBackendLauncher.CONTINUATION;
import static dev.berth.gateway.launcher.RawBackendLauncher.PING;
import static dev.berth.gateway.launcher.RawBackendLauncher.PONG;
import static dev.berth.gateway.launcher.RawBackendLauncher.TEXT;
import static dev.berth.gateway.launcher.RawBackendLauncher.alwaysInvalid;
import static dev.berth.gateway.launcher.RawBackendLauncher.concat;
import static dev.berth.gateway.launcher.RawBackendLauncher.encode;
import static dev.berth.gateway.launcher.RawBackendLauncher.invalidUtf8;
import static dev.berth.gateway.launcher.RawBackendLauncher.mark;
import static dev.berth.gateway.launcher.RawBackendLauncher.randomBytes;
import static dev.berth.gateway.launcher.RawBackendLauncher.randomUtf8;
import static dev.berth.gateway.launcher.RawBackendLauncher.splitAnywhere;
import static dev.berth.gateway.launcher.RawBackendLauncher.splitWithin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.RawBackendLauncher;
import dev.berth.gateway.launcher.RawBackendLauncher.Audit;
import dev.berth.gateway.launcher.RawBackendLauncher.Frame;
import dev.berth.gateway.session.SessionId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fuzzes the pipe from both ends at once. Several raw clients, each its own session (and address,
 * 127.0.0.11 and up), send seeded-random sequences of valid and invalid frames; their sessions'
 * backends are raw servers ({@link RawBackendLauncher}) that echo, and that a client can turn into
 * fuzzers writing seeded-random valid and invalid frames of their own. Meanwhile a control session
 * with a well-behaved client exchanges echoes.
 *
 * <p>The oracle: every frame that crosses the gateway, either way, is well-formed ({@link Audit}:
 * opcodes, reserved bits, masking, control frames, fragmentation, UTF-8 of whole text messages,
 * size limits, valid close codes, no data after a close) and no frame the gateway had to refuse
 * crosses it (they carry a mark). For a client whose backend only echoes, a protocol error is
 * answered with exactly its close code (1002, 1007, 1009), a valid close with the same code, its
 * session survives its errors (a reconnect gets it back), and what comes back is what it sent, in
 * order (a message may be cut short where the client broke off, never altered, duplicated or
 * invented). The control session gets every echo back, intact. At the end the gateway still
 * answers /health, a fresh client still gets an echo, no exception escaped to Vert.x, and once it
 * stops no backend is left running, and every raw backend's sockets and threads are gone.
 *
 * <p>Gateway bugs this test found, all fixed and all failing the run should they come back: a
 * client protocol error answered with a bare TCP close instead of a close frame; a backend's close
 * code past 4999 passed on to the client; a close reason ending inside a UTF-8 code point accepted;
 * a frame to the backend up to 3 bytes over listen.maxFrameSize (held UTF-8 bytes in front); a
 * second close frame after the first (an error found after the close handshake began); the TCP
 * connection left open for Vert.x's closing timeout after the close frames.
 *
 * <p>About 200 iterations (one client connection each), a few seconds, by default, within a 20
 * second budget; more with {@code -Dberth.fuzz.iterations=N} (and {@code -Dberth.fuzz.seconds=S}
 * for the budget), replayed with {@code -Dberth.fuzz.seed=SEED} (printed at the start and in every
 * failure). A replay repeats every client's and backend's script; thread timing may still differ.
 */
@ExtendWith(VertxExtension.class)
class PipeFuzzTest {

    private static final int MAX_FRAME = 16 << 10;
    private static final int MAX_MESSAGE = 64 << 10;
    private static final int SLOTS = 4;
    private static final long GRACE_MS = 3000;
    private static final int READ_TIMEOUT_MS = 5000;
    /**
     * How long the gateway may take to close the TCP connection once close frames went both ways:
     * at once as a rule, well under Vert.x's own closing timeout (10 s) even on a loaded machine.
     */
    private static final int CLOSE_LINGER_MS = 3000;
    /**
     * The gateway's data loops: 2 by default, so clients and their pipes are on different loops about
     * half the time (docs/architecture.md, "Event loops"); {@code -Dberth.fuzz.loops=1} for one.
     */
    private static final int EVENT_LOOPS = Integer.getInteger("berth.fuzz.loops", 2);

    private final long seed = Long.getLong("berth.fuzz.seed", new Random().nextLong());
    private final int iterations = Integer.getInteger("berth.fuzz.iterations", 200);
    private final long budgetMs = 1000L * Long.getLong("berth.fuzz.seconds", Math.max(20, iterations / 12));

    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final Queue<Throwable> unhandled = new ConcurrentLinkedQueue<>();
    private final Map<Move, AtomicInteger> movesMade = new EnumMap<>(Move.class);
    private final Map<String, AtomicInteger> outcomes = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final AtomicInteger iterationsRun = new AtomicInteger();
    private final AtomicInteger echoesChecked = new AtomicInteger();
    private Vertx vertx;
    private RawBackendLauncher launcher;
    private TestGateway gateway;
    private ExecutorService readers;
    private ScheduledExecutorService watchdog;

    @BeforeEach
    void start(Vertx vertx) throws Exception {
        this.vertx = vertx;
        for (Move move : Move.values()) {
            movesMade.put(move, new AtomicInteger());
        }
        vertx.exceptionHandler(unhandled::add);
        launcher = new RawBackendLauncher(vertx, seed, MAX_FRAME, MAX_MESSAGE, violations::add);
        gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .maxFrameSize("16k")
                .maxMessageSize("64k")
                .grace(GRACE_MS + "ms")
                .keepalive("1s")
                .maxSessions(1000)
                .sessions("perClient: {newPerMinute: 1000000}")
                .listen("eventLoops: " + EVENT_LOOPS)
                .start(vertx);
        readers = Executors.newCachedThreadPool(daemon("fuzz-reader"));
        watchdog = Executors.newSingleThreadScheduledExecutor(daemon("fuzz-watchdog"));
    }

    @AfterEach
    void stop() throws Exception {
        try {
            gateway.close();
            assertEquals(
                    0,
                    launcher.running(),
                    replay() + ": backends left running after the gateway stopped: "
                            + launcher.backends().stream()
                                    .filter(backend -> !backend.stopped())
                                    .toList());
            assertTrue(launcher.awaitQuiet(Duration.ofSeconds(10)), replay() + ": raw backend threads still run");
            for (RawBackendLauncher.RawBackend backend : launcher.backends()) {
                assertTrue(backend.closed(), replay() + ": " + backend + " still has an open socket");
            }
        } finally {
            readers.shutdownNow();
            watchdog.shutdownNow();
        }
    }

    private String replay() {
        return "seed " + seed + " (replay with -Dberth.fuzz.seed=" + seed + " -Dberth.fuzz.iterations=" + iterations
                + ")";
    }

    @Test
    void randomValidAndInvalidFramesFromBothSidesNeverCrossTheGatewayMalformed() {
        System.out.println("PipeFuzzTest: " + replay() + ", " + SLOTS + " clients, budget " + budgetMs + "ms");
        assertTimeoutPreemptively(
                Duration.ofMillis(budgetMs + 90_000),
                this::fuzz,
                () -> "the fuzz run did not finish in time, " + replay());
    }

    private void fuzz() throws Exception {
        long started = System.nanoTime();
        long deadline = started + budgetMs * 1_000_000;
        AtomicBoolean fuzzing = new AtomicBoolean(true);
        Control control = new Control();
        Thread controlThread = new Thread(() -> control.run(fuzzing), "fuzz-control");
        controlThread.setDaemon(true);
        controlThread.start();

        List<Thread> slots = new ArrayList<>();
        for (int slot = 0; slot < SLOTS; slot++) {
            Slot state = new Slot(slot);
            Thread thread = new Thread(() -> state.run(deadline), "fuzz-client-" + slot);
            thread.setDaemon(true);
            slots.add(thread);
            thread.start();
        }
        for (Thread thread : slots) {
            thread.join(budgetMs + 60_000);
            assertTrue(!thread.isAlive(), thread.getName() + " did not finish, " + replay());
        }
        fuzzing.set(false);
        controlThread.join(30_000);
        long tookMs = (System.nanoTime() - started) / 1_000_000;

        String health = gateway.get("/health");
        String report = "PipeFuzzTest: " + iterationsRun.get() + " iterations in " + tookMs + "ms, "
                + launcher.launches.get() + " backends launched ("
                + launcher.backends().stream()
                        .filter(RawBackendLauncher.RawBackend::fuzzing)
                        .count() + " fuzzing), "
                + echoesChecked.get() + " echoes checked, control session " + control.echoed + "/" + control.sent
                + " echoes (slowest " + control.slowestMs + "ms)\n  moves: "
                + movesMade.entrySet().stream()
                        .filter(entry -> entry.getValue().get() > 0)
                        .map(entry -> entry.getKey().name().toLowerCase(Locale.ROOT) + "=" + entry.getValue())
                        .collect(Collectors.joining(" "))
                + "\n  outcomes: " + outcomes
                + "\n  health after: " + health;
        System.out.println(report);

        // A fresh, well-behaved client after all that still gets a session and its echo.
        try (FrameClient fresh = FrameClient.connect(vertx, gateway.port, null)) {
            fresh.socket().writeTextMessage("still alive ✓");
            String echo = nextMessage(fresh, 10_000);
            if (!"still alive ✓".equals(echo)) {
                violations.add("a fresh client after the fuzz got " + echo + " instead of its echo");
            }
        }
        if (!health.contains("\"status\":\"UP\"")) {
            violations.add("/health after the fuzz: " + health);
        }
        if (control.failure != null) {
            violations.add("control session: " + control.failure);
        }
        if (control.sent < 10) {
            violations.add("the control session exchanged only " + control.sent + " echoes");
        }
        for (Throwable error : unhandled) {
            violations.add("an exception escaped to Vert.x: " + error);
        }
        int minimum = Math.min(iterations, 100);
        if (iterationsRun.get() < minimum) {
            violations.add("only " + iterationsRun.get() + " iterations ran in the budget of " + budgetMs + "ms (want "
                    + minimum + ")");
        }
        if (!violations.isEmpty()) {
            List<String> shown = violations.stream().limit(40).toList();
            fail(violations.size() + " violation(s), " + replay() + ":\n  " + String.join("\n  ", shown) + "\n"
                    + report);
        }
    }

    // ------------------------------------------------------------------ the control session

    /** A well-behaved client on an echo backend, exchanging echoes all through the fuzz. */
    private final class Control {
        volatile int sent;
        volatile int echoed;
        volatile long slowestMs;
        volatile String failure;

        void run(AtomicBoolean fuzzing) {
            Random random = new Random(seed ^ 0x5EED);
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                while (fuzzing.get() && failure == null) {
                    boolean text = random.nextBoolean();
                    byte[] payload = text ? randomUtf8(random, 2048) : randomBytes(random, random.nextInt(2049));
                    long begun = System.nanoTime();
                    if (text) {
                        client.socket().writeTextMessage(new String(payload, StandardCharsets.UTF_8));
                    } else {
                        client.socket().writeBinaryMessage(Buffer.buffer(payload));
                    }
                    sent++;
                    Object echo = nextEcho(client, 10_000);
                    slowestMs = Math.max(slowestMs, (System.nanoTime() - begun) / 1_000_000);
                    boolean same = text
                            ? new String(payload, StandardCharsets.UTF_8).equals(echo)
                            : echo instanceof byte[] bytes && Arrays.equals(payload, bytes);
                    if (!same) {
                        failure = "echo " + sent + " came back as "
                                + (echo == null ? "nothing within 10s" : describe(echo));
                        return;
                    }
                    echoed++;
                    if (sent % 50 == 0) {
                        String health = gateway.get("/health");
                        if (!health.contains("\"status\":\"UP\"")) {
                            failure = "/health during the fuzz: " + health;
                        }
                    }
                    Thread.sleep(random.nextInt(10));
                }
            } catch (Exception e) {
                failure = "failed after " + sent + " echoes: " + e;
            }
        }
    }

    private static String describe(Object echo) {
        return echo instanceof byte[] bytes ? bytes.length + " bytes of binary" : "text '" + echo + "'";
    }

    /** The next whole message (String or byte[]), reassembled, skipping control frames; null if none in time. */
    private static Object nextEcho(FrameClient client, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + ms * 1_000_000;
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        WebSocketFrameType type = null;
        while (System.nanoTime() < deadline) {
            WebSocketFrame frame = client.pollFrame(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (frame == null) {
                return null;
            }
            if (frame.type() == WebSocketFrameType.CLOSE) {
                return "(closed " + frame.closeStatusCode() + " " + frame.closeReason() + ")";
            }
            if (!(frame.isText() || frame.isBinary() || frame.isContinuation())) {
                continue;
            }
            if (!frame.isContinuation()) {
                type = frame.type();
                message.reset();
            }
            byte[] bytes = frame.binaryData().getBytes();
            message.write(bytes, 0, bytes.length);
            if (frame.isFinal()) {
                return type == WebSocketFrameType.TEXT
                        ? message.toString(StandardCharsets.UTF_8)
                        : message.toByteArray();
            }
        }
        return null;
    }

    private static String nextMessage(FrameClient client, long ms) throws InterruptedException {
        Object echo = nextEcho(client, ms);
        return echo instanceof String text ? text : String.valueOf(echo);
    }

    // ------------------------------------------------------------------ the fuzzing clients

    /** What a fuzzing client does next; {@code expected} is the close code it must get (0: none expected). */
    private enum Move {
        TEXT_MESSAGE(10, 0),
        BINARY_MESSAGE(6, 0),
        OPEN_MESSAGE(6, 0),
        CONTINUE(0, 0),
        FINISH(0, 0),
        PING_(5, 0),
        PONG_(2, 0),
        BIG_VALID(1, 0),
        PAUSE(3, 0),
        BAD_UTF8(2, 1007),
        RESERVED_BITS(1, 1002),
        UNKNOWN_OPCODE(1, 1002),
        ORPHAN_CONTINUATION(1, 1002),
        INTERLEAVED(1, 1002),
        BIG_PING(1, 1002),
        FRAGMENTED_PING(1, 1002),
        UNMASKED(1, 1002),
        OVERSIZE_FRAME(1, 1009),
        OVERSIZE_MESSAGE(1, 1009),
        BAD_CLOSE(1, 1002),
        CLOSE_(2, 0),
        TRUNCATED(1, 0),
        DROP(1, 0);

        final int weight;
        final int expected;
        /** Whether Netty's websocket decoder (not only the gateway's own MessageCheck) may find this one. */
        final boolean decoder;

        Move(int weight, int expected) {
            this.weight = weight;
            this.expected = expected;
            this.decoder = expected != 0 && !name().equals("OVERSIZE_MESSAGE"); // UTF-8: either finds it
        }

        boolean violation() {
            return expected != 0;
        }

        static Move pick(Random random, boolean messageOpen) {
            if (messageOpen) {
                int roll = random.nextInt(100);
                if (roll < 30) {
                    return CONTINUE;
                }
                if (roll < 55) {
                    return FINISH;
                }
                if (roll < 65) {
                    return random.nextBoolean() ? PING_ : PAUSE;
                }
            }
            int total = Arrays.stream(values()).mapToInt(move -> move.weight).sum();
            int at = random.nextInt(total);
            for (Move move : values()) {
                at -= move.weight;
                if (at < 0) {
                    return move;
                }
            }
            throw new IllegalStateException();
        }
    }

    /** A message a client sent (perhaps not all of it) on a session whose backend echoes. */
    private record Sent(int opcode, byte[] payload) {}

    /** What a client sent on one echo session, and how far its echoes have been matched. */
    private static final class EchoLog {
        private final List<Sent> sent = new ArrayList<>();
        private int matched;

        synchronized void sent(int opcode, byte[] payload) {
            sent.add(new Sent(opcode, payload));
        }

        /**
         * Null when {@code echo} is the next echo the backend may have sent: a message sent at or after
         * the last one matched (some may be lost with a client that left), equal to it or cut short.
         */
        synchronized String received(Audit.Message echo) {
            for (int i = matched; i < sent.size(); i++) {
                Sent candidate = sent.get(i);
                byte[] whole = candidate.payload();
                if (candidate.opcode() == echo.opcode()
                        && echo.payload().length <= whole.length
                        && Arrays.equals(whole, 0, echo.payload().length, echo.payload(), 0, echo.payload().length)) {
                    matched = i + (echo.payload().length == whole.length ? 1 : 0);
                    return null;
                }
            }
            return "an echo (" + (echo.opcode() == TEXT ? "text" : "binary") + ", " + echo.payload().length
                    + " bytes) that is no message this client sent since message " + matched + " of " + sent.size();
        }
    }

    /** One fuzzing client: its own address, one session at a time, a new connection per iteration. */
    private final class Slot {
        final int index;
        final InetAddress address;
        String token;
        boolean echoMode;
        EchoLog echoLog;
        /** Whether the last connection's end left the session waiting detached (an echo session only). */
        boolean sessionKept;

        long lastEndNanos;

        Slot(int index) throws IOException {
            this.index = index;
            this.address = InetAddress.getByName("127.0.0." + (11 + index));
        }

        void run(long deadline) {
            for (int iteration = index; iteration < iterations && System.nanoTime() < deadline; iteration += SLOTS) {
                long iterationSeed = seed * 1_000_003L + iteration;
                try {
                    iteration(iteration, new Random(iterationSeed));
                } catch (Exception e) {
                    violations.add("client " + index + " iteration " + iteration + ": " + e);
                }
                iterationsRun.incrementAndGet();
            }
        }

        /** The outcome of this client's last iteration, for violation messages. */
        private String lastOutcome = "none";

        private void count(String outcome) {
            lastOutcome = outcome;
            outcomes.computeIfAbsent(outcome, key -> new AtomicInteger()).incrementAndGet();
        }

        void iteration(int iteration, Random random) throws Exception {
            boolean reattach = token != null && random.nextInt(10) < 6;
            String where = "client " + index + " iteration " + iteration;
            ClientConnection connection = ClientConnection.open(
                    address, gateway.port, reattach ? Map.of("Cookie", "berth_session=" + token) : Map.of());
            ScheduledFuture<?> guard = watchdog.schedule(connection::abort, 20, TimeUnit.SECONDS);
            try {
                if (connection.status != 101) {
                    violations.add(
                            where + ": the upgrade was answered " + connection.status + " " + connection.headers);
                    return;
                }
                if (!RawBackendLauncher.acceptFor(connection.key)
                        .equals(connection.headers.get("sec-websocket-accept"))) {
                    violations.add(
                            where + ": wrong Sec-WebSocket-Accept " + connection.headers.get("sec-websocket-accept"));
                }
                String presented = connection.headers.get("berth-session");
                String at = where + " (session " + (presented == null ? "none" : SessionId.keyOf(presented)) + ")";
                boolean sameSession = presented != null && presented.equals(token);
                if (reattach
                        && echoMode
                        && sessionKept
                        && !sameSession
                        && System.nanoTime() - lastEndNanos < (GRACE_MS / 2) * 1_000_000) {
                    violations.add(at + ": came back to its echo session within the grace period after a client error "
                            + "(" + lastOutcome + ") and got a new session instead of session "
                            + SessionId.keyOf(token));
                }
                count(reattach ? (sameSession ? "reattached" : "reattach found a new session") : "new session");
                if (!sameSession) {
                    token = presented;
                    echoMode = random.nextInt(5) < 2;
                    echoLog = new EchoLog();
                }
                EchoLog log = echoLog;
                boolean echo = echoMode;
                String who = at + (echo ? " (echo backend)" : " (fuzzing backend)") + " received";
                Audit audit = new Audit(who, false, MAX_FRAME, MAX_MESSAGE, violations::add, message -> {
                    if (echo) {
                        String wrong = log.received(message);
                        echoesChecked.incrementAndGet();
                        if (wrong != null) {
                            violations.add(who + " " + wrong);
                        }
                    }
                });
                CountDownLatch closed = new CountDownLatch(1);
                readers.submit(() -> connection.read(audit, closed));
                if (!sameSession) {
                    byte[] mode = (RawBackendLauncher.MODE_PREFIX + (echo ? "echo" : "fuzz:" + random.nextLong()))
                            .getBytes(StandardCharsets.UTF_8);
                    log.sent(TEXT, mode);
                    connection.send(true, 0, TEXT, mode, true);
                }
                List<Move> played = new ArrayList<>();
                Move last = play(connection, random, log, audit, played);
                finish(at + " after " + played, connection, audit, closed, last, echo, random);
            } finally {
                guard.cancel(false);
                connection.abort();
                lastEndNanos = System.nanoTime();
            }
        }

        /** Plays up to a dozen moves; returns the one that ended the connection, or null. */
        private Move play(ClientConnection connection, Random random, EchoLog log, Audit audit, List<Move> played)
                throws Exception {
            int moves = 1 + random.nextInt(14);
            byte[] open = null; // the rest of an unfinished message
            int openType = 0;
            try {
                for (int i = 0; i < moves; i++) {
                    if (audit.closed()) {
                        return null; // the gateway closed first (its backend ended the session)
                    }
                    Move move = Move.pick(random, open != null);
                    if (open == null && (move == Move.CONTINUE || move == Move.FINISH)) {
                        move = Move.TEXT_MESSAGE;
                    }
                    if (open != null
                            && (move == Move.TEXT_MESSAGE
                                    || move == Move.BINARY_MESSAGE
                                    || move == Move.OPEN_MESSAGE
                                    || move == Move.BIG_VALID)) {
                        move = Move.CONTINUE; // a valid move never starts a message inside another
                    }
                    if (move == Move.BAD_UTF8 && open != null && openType != TEXT) {
                        move = Move.INTERLEAVED;
                    }
                    movesMade.get(move).incrementAndGet();
                    played.add(move);
                    switch (move) {
                        case TEXT_MESSAGE, BINARY_MESSAGE -> {
                            int type = move == Move.TEXT_MESSAGE ? TEXT : BINARY;
                            byte[] payload =
                                    type == TEXT ? randomUtf8(random, 4096) : randomBytes(random, random.nextInt(4097));
                            log.sent(type, payload);
                            connection.send(true, 0, type, payload, true);
                        }
                        case OPEN_MESSAGE -> {
                            openType = random.nextBoolean() ? TEXT : BINARY;
                            byte[] whole = openType == TEXT
                                    ? randomUtf8(random, 6000)
                                    : randomBytes(random, random.nextInt(6001));
                            log.sent(openType, whole);
                            int first = random.nextInt(whole.length + 1);
                            connection.send(false, 0, openType, Arrays.copyOf(whole, first), true);
                            open = Arrays.copyOfRange(whole, first, whole.length);
                        }
                        case CONTINUE -> {
                            int next = random.nextInt(open.length + 1);
                            connection.send(false, 0, CONTINUATION, Arrays.copyOf(open, next), true);
                            open = Arrays.copyOfRange(open, next, open.length);
                        }
                        case FINISH -> {
                            connection.send(true, 0, CONTINUATION, open, true);
                            open = null;
                        }
                        case PING_ -> connection.send(true, 0, PING, randomBytes(random, random.nextInt(126)), true);
                        case PONG_ -> connection.send(true, 0, PONG, randomBytes(random, random.nextInt(126)), true);
                        case BIG_VALID -> {
                            int type = random.nextBoolean() ? TEXT : BINARY;
                            byte[] payload = type == TEXT
                                    ? randomUtf8(random, MAX_MESSAGE)
                                    : randomBytes(random, random.nextInt(MAX_MESSAGE + 1));
                            log.sent(type, payload);
                            List<byte[]> parts = splitWithin(random, payload, MAX_FRAME);
                            for (int p = 0; p < parts.size(); p++) {
                                connection.send(
                                        p == parts.size() - 1, 0, p == 0 ? type : CONTINUATION, parts.get(p), true);
                            }
                        }
                        case PAUSE -> Thread.sleep(random.nextInt(80));
                        case BAD_UTF8 -> {
                            if (open != null) {
                                connection.send(
                                        random.nextBoolean(),
                                        0,
                                        CONTINUATION,
                                        marked(
                                                random,
                                                "c-utf8",
                                                concat(alwaysInvalid(random), randomUtf8(random, 200))),
                                        true);
                            } else {
                                byte[] bad = invalidUtf8(random, 3000);
                                log.sent(TEXT, bad); // what comes before the bad byte may pass, cut short
                                List<byte[]> parts = splitAnywhere(random, bad, 5);
                                for (int p = 0; p < parts.size(); p++) {
                                    connection.send(
                                            p == parts.size() - 1, 0, p == 0 ? TEXT : CONTINUATION, parts.get(p), true);
                                }
                            }
                            return move;
                        }
                        case RESERVED_BITS -> {
                            int[] opcodes = {TEXT, BINARY, PING, open != null ? CONTINUATION : TEXT};
                            int opcode = opcodes[random.nextInt(opcodes.length)];
                            connection.send(
                                    opcode == PING || random.nextBoolean(),
                                    1 + random.nextInt(7),
                                    opcode,
                                    marked(random, "c-rsv", randomUtf8(random, 100)),
                                    true);
                            return move;
                        }
                        case UNKNOWN_OPCODE -> {
                            int[] unknown = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
                            connection.send(
                                    true,
                                    0,
                                    unknown[random.nextInt(unknown.length)],
                                    marked(random, "c-op", new byte[0]),
                                    true);
                            return move;
                        }
                        case ORPHAN_CONTINUATION -> {
                            if (open != null) {
                                movesMade.get(move).decrementAndGet();
                                movesMade.get(Move.INTERLEAVED).incrementAndGet();
                                connection.send(
                                        random.nextBoolean(),
                                        0,
                                        random.nextBoolean() ? TEXT : BINARY,
                                        marked(random, "c-interleaved", randomUtf8(random, 300)),
                                        true);
                                return Move.INTERLEAVED;
                            }
                            connection.send(
                                    random.nextBoolean(),
                                    0,
                                    CONTINUATION,
                                    marked(random, "c-orphan", randomUtf8(random, 300)),
                                    true);
                            return move;
                        }
                        case INTERLEAVED -> {
                            if (open == null) {
                                openType = random.nextBoolean() ? TEXT : BINARY;
                                byte[] first = randomUtf8(random, 500);
                                log.sent(openType, first);
                                connection.send(false, 0, openType, first, true);
                            }
                            connection.send(
                                    random.nextBoolean(),
                                    0,
                                    random.nextBoolean() ? TEXT : BINARY,
                                    marked(random, "c-interleaved", randomUtf8(random, 300)),
                                    true);
                            return move;
                        }
                        case BIG_PING -> {
                            connection.send(true, 0, PING, randomBytes(random, 126 + random.nextInt(300)), true);
                            return move;
                        }
                        case FRAGMENTED_PING -> {
                            connection.send(false, 0, PING, randomBytes(random, random.nextInt(100)), true);
                            return move;
                        }
                        case UNMASKED -> {
                            int opcode = open != null ? CONTINUATION : random.nextBoolean() ? TEXT : BINARY;
                            connection.send(
                                    random.nextBoolean(),
                                    0,
                                    opcode,
                                    marked(random, "c-unmasked", randomUtf8(random, 300)),
                                    false);
                            return move;
                        }
                        case OVERSIZE_FRAME -> {
                            int length = MAX_FRAME + 1 + random.nextInt(8192);
                            int opcode = open != null ? CONTINUATION : random.nextBoolean() ? TEXT : BINARY;
                            byte[] payload = marked(
                                    random, "c-bigframe", "z".repeat(length).getBytes(StandardCharsets.US_ASCII));
                            // A peer may close on the header: send all of it only sometimes, so the close frame is
                            // not always lost to a reset from unread data.
                            int written = random.nextInt(4) == 0 ? payload.length : random.nextInt(600);
                            connection.sendPartial(random.nextBoolean(), opcode, payload, written);
                            return move;
                        }
                        case OVERSIZE_MESSAGE -> {
                            if (open != null) {
                                // Only a new message here: fragments appended to the open one would not be a prefix of
                                // what was logged.
                                movesMade.get(move).decrementAndGet();
                                movesMade.get(Move.OVERSIZE_FRAME).incrementAndGet();
                                connection.sendPartial(
                                        true,
                                        CONTINUATION,
                                        marked(
                                                random,
                                                "c-bigframe",
                                                "z".repeat(MAX_FRAME + 1).getBytes(StandardCharsets.US_ASCII)),
                                        random.nextInt(600));
                                return Move.OVERSIZE_FRAME;
                            }
                            int type = random.nextBoolean() ? TEXT : BINARY;
                            List<byte[]> parts = new ArrayList<>();
                            long size = 0;
                            while (size <= MAX_MESSAGE) {
                                int part = MAX_FRAME / 2 + random.nextInt(MAX_FRAME / 2);
                                byte[] payload = "w".repeat(part).getBytes(StandardCharsets.US_ASCII);
                                if (size + part > MAX_MESSAGE) {
                                    payload =
                                            marked(random, "c-bigmsg", payload); // the fragment that crosses the limit
                                }
                                parts.add(payload);
                                size += payload.length;
                            }
                            log.sent(
                                    type,
                                    parts.stream().reduce(new byte[0], RawBackendLauncher::concat)); // passes cut short
                            for (int p = 0; p < parts.size(); p++) {
                                connection.send(false, 0, p == 0 ? type : CONTINUATION, parts.get(p), true);
                            }
                            return move;
                        }
                        case BAD_CLOSE -> {
                            sendBadClose(connection, random);
                            return move;
                        }
                        case CLOSE_ -> {
                            sendClose(connection, random, audit);
                            return move;
                        }
                        case TRUNCATED -> {
                            byte[] frame = encode(
                                    true,
                                    0,
                                    random.nextBoolean() ? TEXT : BINARY,
                                    marked(random, "c-trunc", randomUtf8(random, 300)),
                                    random);
                            connection.write(Arrays.copyOf(frame, 1 + random.nextInt(frame.length - 1)));
                            connection.abortNow(random.nextBoolean());
                            return move;
                        }
                        case DROP -> {
                            connection.abortNow(random.nextBoolean());
                            return move;
                        }
                        default -> throw new IllegalStateException(move.name());
                    }
                }
            } catch (IOException gone) {
                // The gateway closed first (e.g. its backend ended the session): nothing wrong with that.
                count("client write failed: " + gone.getClass().getSimpleName());
            }
            return null;
        }

        /** One of the ways a close frame can be malformed; the move's expected code is then 1002 or 1007. */
        private void sendBadClose(ClientConnection connection, Random random) throws IOException {
            int[] invalid = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999};
            byte[] payload;
            switch (random.nextInt(4)) {
                case 0 -> payload = new byte[] {(byte) random.nextInt(256)};
                case 1 -> payload = closePayload(invalid[random.nextInt(invalid.length)], randomUtf8(random, 60));
                case 2 -> payload = closePayload(1000, invalidUtf8(random, 60));
                default -> payload = closePayload(1000, randomBytes(random, 124 + random.nextInt(100)));
            }
            byte[] reason = payload.length > 2 ? Arrays.copyOfRange(payload, 2, payload.length) : new byte[0];
            connection.reasonCutShort = !RawBackendLauncher.validUtf8(reason)
                            && RawBackendLauncher.validUtf8(Arrays.copyOf(reason, Math.max(0, reason.length - 1)))
                    || !RawBackendLauncher.validUtf8(reason)
                            && RawBackendLauncher.validUtf8(Arrays.copyOf(reason, Math.max(0, reason.length - 2)))
                    || !RawBackendLauncher.validUtf8(reason)
                            && RawBackendLauncher.validUtf8(Arrays.copyOf(reason, Math.max(0, reason.length - 3)));
            connection.badCloseExpected = payload.length > 125
                            || payload.length == 1
                            || payload.length >= 2
                                    && !RawBackendLauncher.validCloseCode(
                                            ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF))
                    ? 1002
                    : RawBackendLauncher.validUtf8(Arrays.copyOfRange(payload, 2, payload.length)) ? 0 : 1007;
            connection.send(true, 0, CLOSE, payload, true);
        }

        /** A valid close, or one with a code past 4999 (answered 1002); sometimes data after it, which must not pass. */
        private void sendClose(ClientConnection connection, Random random, Audit audit) throws IOException {
            int[] codes = {
                1000,
                1000,
                1001,
                1002,
                1003,
                1007,
                1008,
                1009,
                1010,
                1011,
                1012,
                1013,
                1014,
                3000 + random.nextInt(2000),
                3000 + random.nextInt(2000),
                5000 + random.nextInt(60536)
            };
            int code = random.nextInt(8) == 0 ? -1 : codes[random.nextInt(codes.length)];
            connection.closeSent = code;
            connection.send(true, 0, CLOSE, code < 0 ? new byte[0] : closePayload(code, randomUtf8(random, 100)), true);
            if (random.nextInt(3) == 0) {
                // RFC 6455 §5.5.1: no data after a close frame; whatever follows must not reach the backend.
                connection.dataAfterClose = true;
                try {
                    for (int i = random.nextInt(3); i >= 0; i--) {
                        connection.send(
                                true,
                                0,
                                random.nextBoolean() ? TEXT : BINARY,
                                marked(random, "c-afterclose", randomUtf8(random, 200)),
                                true);
                    }
                } catch (IOException closedAfterItsAnswer) {
                    // The gateway may end TCP once it answered the close: the move is still a close, and this
                    // client's session ends or stays by its code (it once counted as a write failure, which
                    // keeps the session, and the next iteration's check then failed on a session rightly ended).
                }
            }
        }

        /** Waits for what the move calls for, checks the close code on an echo session, records how it ended. */
        private void finish(
                String where,
                ClientConnection connection,
                Audit audit,
                CountDownLatch closed,
                Move last,
                boolean echo,
                Random random)
                throws Exception {
            String mode = echo ? "echo: " : "fuzz: ";
            boolean kept = true;
            if (last == null) {
                Thread.sleep(random.nextInt(100)); // let some echoes come
                boolean closedByGateway = audit.closed();
                int code = audit.closeCode();
                // 1011 from the gateway ends the session (its backend failed, or it was over before this
                // connection could join it); any other close it starts keeps it.
                kept = !(closedByGateway && code == 1011);
                count(mode
                        + (closedByGateway
                                ? "closed by the gateway (" + code + ") while sending"
                                : "left without a close frame"));
                connection.abortNow(false);
            } else if (last == Move.TRUNCATED || last == Move.DROP) {
                count(mode + "dropped");
            } else {
                boolean answered = closed.await(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                int code = audit.closeCode();
                if (last == Move.CLOSE_) {
                    int sent = connection.closeSent;
                    kept = !(sent == 1000 || sent >= 3000 && sent <= 4999); // no code only leaves
                    count(mode + "closed with " + (sent < 0 ? "no code" : sent >= 5000 ? "a code past 4999" : sent)
                            + " -> " + describeClose(code, connection));
                    boolean right = sent < 0 ? code == -1 || code == 1000 : sent >= 5000 ? code == 1002 : code == sent;
                    if (code == -2 && !connection.resetBeforeClose && connection.dataAfterClose) {
                        kept = false; // the data after the close frame broke a fragmented message: a decoder error
                        violations.add(where + ": closed with " + sent + " then sent data: no close frame came back");
                    } else if (echo && !right) {
                        violations.add(where + ": closed with " + (sent < 0 ? "no code" : sent) + ", answered with "
                                + describeClose(code, connection));
                    }
                } else {
                    int expected = last == Move.BAD_CLOSE ? connection.badCloseExpected : last.expected;
                    count(mode + last.name().toLowerCase(Locale.ROOT) + " -> " + describeClose(code, connection));
                    boolean bareClose = code == -2 && !connection.resetBeforeClose;
                    if (bareClose && last.violation()) {
                        violations.add(
                                where + ": after " + last + " (following a " + opcodeName(connection.previousOpcode)
                                        + ") the connection was closed without a close frame, expected " + expected);
                    } else if (last == Move.BAD_CLOSE && connection.reasonCutShort && code == 1000) {
                        kept = false; // taken as the client's clean close: the session ended
                        violations.add(
                                where + ": a close reason ending inside a code point was answered 1000, expected 1007");
                    } else if (echo
                            && code != expected
                            && !(connection.resetBeforeClose && last == Move.OVERSIZE_FRAME)) {
                        violations.add(where + ": after " + last + " the close code is "
                                + describeClose(code, connection) + ", expected " + expected);
                    }
                }
                if (echo && !answered) {
                    violations.add(where + ": the connection neither closed nor ended within " + READ_TIMEOUT_MS
                            + "ms after " + last);
                }
            }
            connection.awaitReader(2000);
            // The reader answers every close frame the gateway starts, and a close this side starts was answered.
            if (connection.openAfterClose) {
                violations.add(where + ": the gateway kept the connection open over " + CLOSE_LINGER_MS
                        + "ms after the close handshake");
            }
            sessionKept = kept;
        }

        private String describeClose(int code, ClientConnection connection) {
            return code == -2
                    ? (connection.resetBeforeClose ? "a reset, no close frame" : "no close frame") + " ("
                            + connection.readerEnd + ")"
                    : code == -1 ? "an empty close" : String.valueOf(code);
        }
    }

    private static String opcodeName(int opcode) {
        return switch (opcode) {
            case -1 -> "nothing";
            case CONTINUATION -> "continuation";
            case TEXT -> "text frame";
            case BINARY -> "binary frame";
            case CLOSE -> "close";
            case PING -> "ping";
            case PONG -> "pong";
            default -> "opcode " + opcode;
        };
    }

    private static byte[] closePayload(int code, byte[] reason) {
        return concat(new byte[] {(byte) (code >> 8), (byte) code}, reason);
    }

    private static byte[] marked(Random random, String move, byte[] rest) {
        return concat(mark(move, random).getBytes(StandardCharsets.US_ASCII), rest);
    }

    // ------------------------------------------------------------------ a raw client connection

    /** A websocket client connection from a chosen 127.0.0.x address, reading and writing raw frames. */
    private static final class ClientConnection {
        final Socket socket;
        final DataInputStream in;
        final OutputStream out;
        final String key;
        final int status;
        final Map<String, String> headers;
        final Random masking = new Random();
        final CountDownLatch readerDone = new CountDownLatch(1);
        volatile boolean resetBeforeClose;
        volatile String readerEnd = "running";
        volatile int closeSent = -2;
        volatile int badCloseExpected;
        volatile boolean reasonCutShort;
        volatile boolean dataAfterClose;
        /** Whether the gateway kept the TCP connection open for CLOSE_LINGER_MS after the close frames. */
        volatile boolean openAfterClose;
        /** The opcode of the frame sent before the last one (the violation). */
        volatile int previousOpcode = -1;

        private volatile int lastOpcode = -1;
        private boolean aborted;

        private ClientConnection(Socket socket, String key, int status, Map<String, String> headers)
                throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
            this.key = key;
            this.status = status;
            this.headers = headers;
        }

        static ClientConnection open(InetAddress from, int port, Map<String, String> extraHeaders) throws IOException {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            socket.setTcpNoDelay(true);
            byte[] nonce = new byte[16];
            new Random().nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            StringBuilder request = new StringBuilder("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\n");
            extraHeaders.forEach((name, value) ->
                    request.append(name).append(": ").append(value).append("\r\n"));
            socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            InputStream raw = socket.getInputStream();
            String statusLine = RawWebSocket.readLine(raw);
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line = RawWebSocket.readLine(raw); !line.isEmpty(); line = RawWebSocket.readLine(raw)) {
                int colon = line.indexOf(':');
                headers.merge(
                        line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        line.substring(colon + 1).trim(),
                        (a, b) -> a + "\n" + b);
            }
            return new ClientConnection(socket, key, status, headers);
        }

        synchronized void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        void send(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) throws IOException {
            previousOpcode = lastOpcode;
            lastOpcode = opcode;
            write(encode(fin, rsv, opcode, payload, masked ? masking : null));
        }

        /** A frame's header and only the first {@code written} bytes of its payload. */
        void sendPartial(boolean fin, int opcode, byte[] payload, int written) throws IOException {
            previousOpcode = lastOpcode;
            lastOpcode = opcode;
            byte[] frame = encode(fin, 0, opcode, payload, masking);
            write(Arrays.copyOf(frame, frame.length - payload.length + Math.min(written, payload.length)));
        }

        /**
         * Reads until the gateway closes: every frame is audited, pings answered, a close frame
         * answered once; then a second more to see that nothing follows it.
         */
        void read(Audit audit, CountDownLatch closed) {
            try {
                while (true) {
                    Frame frame;
                    try {
                        frame = RawBackendLauncher.readFrame(in, 1 << 24);
                    } catch (RawBackendLauncher.MalformedFrameException malformed) {
                        audit.malformed(malformed.getMessage());
                        return;
                    } catch (EOFException truncated) {
                        audit.malformed("the gateway's stream ended inside a frame");
                        return;
                    }
                    if (frame == null) {
                        readerEnd = "eof after " + audit.frames() + " frames";
                        return;
                    }
                    audit.frame(frame);
                    if (frame.opcode() == PING && frame.fin() && frame.payload().length <= 125 && closeSent == -2) {
                        try {
                            write(encode(true, 0, PONG, frame.payload(), masking));
                        } catch (IOException ignored) {
                            // going away
                        }
                    } else if (frame.opcode() == CLOSE) {
                        closed.countDown();
                        socket.setSoTimeout(CLOSE_LINGER_MS);
                        if (closeSent == -2) {
                            try {
                                write(encode(
                                        true,
                                        0,
                                        CLOSE,
                                        Arrays.copyOf(frame.payload(), Math.min(2, frame.payload().length)),
                                        masking));
                            } catch (IOException ignored) {
                                // the gateway may close first
                            }
                        }
                    }
                }
            } catch (SocketTimeoutException quiet) {
                readerEnd = "read timeout after " + audit.frames() + " frames";
                openAfterClose = audit.closed();
            } catch (IOException reset) {
                readerEnd = reset + " after " + audit.frames() + " frames";
                if (!audit.closed()) {
                    resetBeforeClose = true;
                }
            } finally {
                closed.countDown();
                readerDone.countDown();
            }
        }

        boolean awaitReader(long ms) throws InterruptedException {
            return readerDone.await(ms, TimeUnit.MILLISECONDS);
        }

        /** Closes the TCP connection now: with a FIN, or a reset when {@code reset}. */
        synchronized void abortNow(boolean reset) {
            if (aborted) {
                return;
            }
            aborted = true;
            try {
                if (reset) {
                    socket.setSoLinger(true, 0);
                }
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        void abort() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicLong count = new AtomicLong();
        return body -> {
            Thread thread = new Thread(body, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
