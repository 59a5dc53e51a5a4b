package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A launcher whose backends are raw websocket servers on plain {@link ServerSocket}s: each does
 * the server handshake by hand and then reads and writes frames byte by byte, so a test can make
 * a backend send what no websocket library would, and can see every frame the gateway sends it
 * exactly as it came off the wire (mask bit, reserved bits, length encoding).
 *
 * <p>A backend starts as an echo: it reassembles every message the gateway forwards and sends it
 * back, valid and fragmented at random (within the gateway's frame limit). A text message
 * {@code berth-fuzz:fuzz:SEED} from the client turns it into a fuzzer for the rest of its life: it
 * also writes a seeded-random script of valid and invalid frames (unmasked, as a server must,
 * except where masking is the fault). Every frame it writes that the gateway must refuse carries
 * {@link #FORBIDDEN_MARK} at the start of its payload, so a client that ever receives it proves a
 * leak; and every data frame a backend receives is checked for the same mark, written by fuzzing
 * clients into the frames the gateway must not forward.
 *
 * <p>Every frame a backend receives goes through an {@link Audit} (well-formed, masked, within the
 * limits); what is wrong goes to the violation sink given at construction. Threads, not the event
 * loop, do the socket work; the launcher contract is kept (ready when launched, idempotent stop,
 * exit reported on the gateway's context).
 */
public final class RawBackendLauncher implements Launcher {

    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    /** The text message a client sends first to make its session's backend a fuzzer. */
    public static final String MODE_PREFIX = "berth-fuzz:";
    /** Starts the payload of every frame the gateway must refuse (ASCII, so valid UTF-8 too). */
    public static final String FORBIDDEN_MARK = "FORBID-";

    private static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    // ------------------------------------------------------------------ wire format

    /** One frame as it was on the wire. */
    public record Frame(boolean fin, int rsv, int opcode, boolean masked, boolean minimalLength, byte[] payload) {

        public boolean control() {
            return (opcode & 0x8) != 0;
        }

        /** The close code of a close frame, or -1 when its payload has none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
        }

        public String describe() {
            String name = switch (opcode) {
                case CONTINUATION -> "continuation";
                case TEXT -> "text";
                case BINARY -> "binary";
                case CLOSE -> "close" + (payload.length >= 2 ? " " + closeCode() : "");
                case PING -> "ping";
                case PONG -> "pong";
                default -> "opcode 0x" + Integer.toHexString(opcode);
            };
            return name + (fin ? "" : " (not fin)") + (rsv != 0 ? " rsv=" + rsv : "") + (masked ? " masked" : "") + ", "
                    + payload.length + " bytes";
        }
    }

    /** The peer wrote something that cannot be parsed as a frame at all. */
    public static final class MalformedFrameException extends IOException {
        public MalformedFrameException(String message) {
            super(message);
        }
    }

    /**
     * The next frame, or null at a clean end of stream between frames. A stream that ends inside a
     * frame throws {@link EOFException}; a length over {@code maxPayload} (or with the top bit set)
     * throws {@link MalformedFrameException}.
     */
    public static Frame readFrame(InputStream stream, int maxPayload) throws IOException {
        DataInputStream in = stream instanceof DataInputStream data ? data : new DataInputStream(stream);
        int first = in.read();
        if (first < 0) {
            return null;
        }
        int second = in.readUnsignedByte();
        long length = second & 0x7F;
        boolean minimal = true;
        if (length == 126) {
            length = in.readUnsignedShort();
            minimal = length >= 126;
        } else if (length == 127) {
            length = in.readLong();
            minimal = length >= 65536;
        }
        if (length < 0 || length > maxPayload) {
            throw new MalformedFrameException(
                    "a frame announcing " + length + " payload bytes (at most " + maxPayload + " expected)");
        }
        byte[] mask = null;
        if ((second & 0x80) != 0) {
            mask = new byte[4];
            in.readFully(mask);
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        if (mask != null) {
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i % 4];
            }
        }
        return new Frame((first & 0x80) != 0, (first >> 4) & 0x7, first & 0xF, mask != null, minimal, payload);
    }

    /** The header of a frame announcing {@code length} payload bytes; {@code mask} null for none. */
    public static byte[] header(boolean fin, int rsv, int opcode, long length, byte[] mask) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write((fin ? 0x80 : 0) | (rsv & 0x7) << 4 | opcode & 0xF);
        int maskBit = mask != null ? 0x80 : 0;
        if (length < 126) {
            out.write(maskBit | (int) length);
        } else if (length < 65536) {
            out.write(maskBit | 126);
            out.write((int) (length >> 8));
            out.write((int) length);
        } else {
            out.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) (length >> shift));
            }
        }
        if (mask != null) {
            out.write(mask, 0, 4);
        }
        return out.toByteArray();
    }

    /** A whole frame; masked with a key from {@code masking} when it is not null. */
    public static byte[] encode(boolean fin, int rsv, int opcode, byte[] payload, Random masking) {
        byte[] mask = null;
        byte[] body = payload;
        if (masking != null) {
            mask = new byte[4];
            masking.nextBytes(mask);
            body = payload.clone();
            for (int i = 0; i < body.length; i++) {
                body[i] ^= mask[i % 4];
            }
        }
        byte[] head = header(fin, rsv, opcode, payload.length, mask);
        byte[] frame = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, frame, head.length, body.length);
        return frame;
    }

    /** Close codes an endpoint may put on the wire (RFC 6455 §7.4, with 1012 to 1014 from the IANA registry). */
    public static boolean validCloseCode(int code) {
        return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999;
    }

    public static boolean validUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** Whether a data frame's payload carries the mark of a frame the gateway must refuse. */
    public static boolean forbidden(byte[] payload) {
        return markAt(payload) >= 0;
    }

    /** The mark's offset in the first few bytes (held UTF-8 bytes may come before it), or -1. */
    public static int markAt(byte[] payload) {
        byte[] mark = FORBIDDEN_MARK.getBytes(StandardCharsets.US_ASCII);
        for (int offset = 0; offset <= 4 && offset + mark.length <= payload.length; offset++) {
            if (Arrays.equals(payload, offset, offset + mark.length, mark, 0, mark.length)) {
                return offset;
            }
        }
        return -1;
    }

    /** The mark plus who wrote it, e.g. {@code FORBID-rsv-3f2a}, for a frame that must not pass. */
    public static String mark(String move, Random random) {
        return FORBIDDEN_MARK + move + "-" + Integer.toHexString(0x1000 + random.nextInt(0xF000)) + "|";
    }

    // ------------------------------------------------------------------ random content

    /** Well-formed UTF-8 of about {@code maxBytes} at most: ASCII, 2, 3 and 4 byte code points mixed. */
    public static byte[] randomUtf8(Random random, int maxBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int target = random.nextInt(maxBytes + 1);
        while (out.size() < target) {
            int kind = random.nextInt(12);
            int codePoint;
            if (kind < 5) {
                codePoint = 0x20 + random.nextInt(0x5F);
            } else if (kind == 5) {
                codePoint = random.nextInt(0x20); // controls, NUL included: valid UTF-8
            } else if (kind < 8) {
                codePoint = 0x80 + random.nextInt(0x800 - 0x80);
            } else if (kind < 10) {
                codePoint = 0x800 + random.nextInt(0x10000 - 0x800);
                if (codePoint >= 0xD800 && codePoint <= 0xDFFF) {
                    codePoint = 0xFFFD;
                }
            } else {
                codePoint = 0x10000 + random.nextInt(0x110000 - 0x10000);
            }
            byte[] encoded = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
            if (out.size() + encoded.length > maxBytes) {
                break;
            }
            out.write(encoded, 0, encoded.length);
        }
        return out.toByteArray();
    }

    /** Byte sequences that are not UTF-8 at the start of a code point (Autobahn section 6 style). */
    private static final byte[][] INVALID_SEQUENCES = {
        {(byte) 0xFF},
        {(byte) 0xFE},
        {(byte) 0xC0, (byte) 0x80},
        {(byte) 0xC1, (byte) 0xBF},
        {(byte) 0xE0, (byte) 0x80, (byte) 0x80},
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
        {(byte) 0x80},
        {(byte) 0xBF},
        {(byte) 0xE2, (byte) 0x82, 'x'},
        {(byte) 0xF0, (byte) 0x9F, 'x'},
        {(byte) 0xC3, 'x'},
        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}
    };
    /** Bytes that are invalid whatever came before them: safe to put after a fragment that ends mid code point. */
    private static final byte[] ALWAYS_INVALID = {
        (byte) 0xFF, (byte) 0xFE, (byte) 0xC0, (byte) 0xC1, (byte) 0xF5, (byte) 0xF8, (byte) 0xFD
    };

    /**
     * Text that is valid UTF-8 except at one random place: an invalid sequence, or a message that
     * ends in the middle of a code point.
     */
    public static byte[] invalidUtf8(Random random, int maxBytes) {
        byte[] before = randomUtf8(random, maxBytes / 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(before, 0, before.length);
        if (random.nextInt(5) == 0) {
            byte[] cut = new String(Character.toChars(0x800 + random.nextInt(0xC000))).getBytes(StandardCharsets.UTF_8);
            out.write(cut, 0, 1 + random.nextInt(cut.length - 1)); // ends inside a code point
            return out.toByteArray();
        }
        byte[] bad = INVALID_SEQUENCES[random.nextInt(INVALID_SEQUENCES.length)];
        out.write(bad, 0, bad.length);
        byte[] after = randomUtf8(random, maxBytes / 2);
        out.write(after, 0, after.length);
        return out.toByteArray();
    }

    /** A few bytes no UTF-8 decoder accepts in any state. */
    public static byte[] alwaysInvalid(Random random) {
        byte[] bytes = new byte[1 + random.nextInt(3)];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = ALWAYS_INVALID[random.nextInt(ALWAYS_INVALID.length)];
        }
        return bytes;
    }

    /** {@code bytes} cut at random places (code points included) into at most {@code maxParts} parts. */
    public static List<byte[]> splitAnywhere(Random random, byte[] bytes, int maxParts) {
        int parts = 1 + random.nextInt(Math.max(1, maxParts));
        int[] cuts = new int[parts + 1];
        cuts[parts] = bytes.length;
        for (int i = 1; i < parts; i++) {
            cuts[i] = bytes.length == 0 ? 0 : random.nextInt(bytes.length + 1);
        }
        Arrays.sort(cuts, 1, parts);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            out.add(Arrays.copyOfRange(bytes, cuts[i], cuts[i + 1]));
        }
        return out;
    }

    /** {@code bytes} in parts of at most {@code maxPart} bytes, cut at random places. */
    public static List<byte[]> splitWithin(Random random, byte[] bytes, int maxPart) {
        List<byte[]> out = new ArrayList<>();
        int at = 0;
        do {
            int size = Math.min(bytes.length - at, random.nextInt(maxPart + 1));
            if (random.nextInt(3) == 0) {
                size = Math.min(bytes.length - at, maxPart);
            }
            out.add(Arrays.copyOfRange(bytes, at, at + size));
            at += size;
        } while (at < bytes.length);
        return out;
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    public static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    // ------------------------------------------------------------------ the oracle for one direction

    /**
     * Checks one direction of one websocket connection, frame by frame, against RFC 6455 and the
     * gateway's limits: opcodes, reserved bits, masking, minimal length encoding, control frames
     * (at most 125 bytes, not fragmented, close payloads), fragmentation (no interleaving, no orphan
     * continuation), UTF-8 of each whole text message, frame and message sizes, no data frame and no
     * second close after a close frame, and no frame carrying {@link #FORBIDDEN_MARK}. Thread-safe.
     */
    public static final class Audit {

        /** A whole message as it was reassembled. */
        public record Message(int opcode, byte[] payload) {}

        private final String who;
        private final boolean expectMasked;
        private final int maxFrame;
        private final long maxMessage;
        private final Consumer<String> violations;
        private final Consumer<Message> messages;
        private final ByteArrayOutputStream message = new ByteArrayOutputStream();
        private int messageType = -1;
        private int frames;
        private boolean closed;
        private int closeCode = -2;
        private int excusedCloseCode = -2;
        private int count;

        public Audit(
                String who,
                boolean expectMasked,
                int maxFrame,
                long maxMessage,
                Consumer<String> violations,
                Consumer<Message> messages) {
            this.who = who;
            this.expectMasked = expectMasked;
            this.maxFrame = maxFrame;
            this.maxMessage = maxMessage;
            this.violations = violations;
            this.messages = messages;
        }

        /**
         * A close code the peer may answer with although it is not valid on the wire, because it only
         * echoes what this side sent (Vert.x answers a close frame before any handler sees it).
         */
        public synchronized void excuseCloseCode(int code) {
            excusedCloseCode = code;
        }

        public synchronized boolean closed() {
            return closed;
        }

        /** The code of the first close frame seen: -1 when it had none, -2 when none came. */
        public synchronized int closeCode() {
            return closeCode;
        }

        public synchronized int frames() {
            return frames;
        }

        /** How many of the frames before a violation it names, oldest first. */
        private static final int RECENT = 8;

        private final java.util.ArrayDeque<String> recent = new java.util.ArrayDeque<>();

        private void violation(Frame frame, String what) {
            if (count++ < 20) {
                violations.accept(who + ", frame " + frames + " (" + frame.describe() + "): " + what
                        + "; the last frames, this one last: " + recent);
            }
        }

        public synchronized void malformed(String what) {
            violations.accept(who + ", after frame " + frames + ": " + what);
        }

        public synchronized void frame(Frame frame) {
            frames++;
            if (recent.size() == RECENT) {
                recent.removeFirst();
            }
            recent.addLast(frame.describe());
            if (closed && frame.opcode() != PING && frame.opcode() != PONG) {
                // RFC 6455 §5.5.1: no data after a close frame (a ping or pong is not data), and one close only
                violation(frame, "a frame after the close frame");
            }
            if (frame.rsv() != 0) {
                violation(frame, "reserved bits set, no extension was negotiated");
            }
            if (frame.masked() != expectMasked) {
                violation(
                        frame,
                        expectMasked
                                ? "not masked, as a client's frame must be"
                                : "masked, as a server's frame must not be");
            }
            if (!frame.minimalLength()) {
                violation(frame, "its length is not in the minimal encoding");
            }
            if (frame.payload().length > maxFrame) {
                violation(frame, "over the frame limit of " + maxFrame + " bytes");
            }
            switch (frame.opcode()) {
                case CONTINUATION, TEXT, BINARY -> data(frame);
                case CLOSE, PING, PONG -> control(frame);
                default -> violation(frame, "an unknown opcode");
            }
        }

        private void data(Frame frame) {
            if (forbidden(frame.payload())) {
                violation(frame, "carries the mark of a frame the gateway had to refuse: " + markText(frame.payload()));
            }
            if (frame.opcode() == CONTINUATION) {
                if (messageType < 0) {
                    violation(frame, "a continuation outside a message");
                    return;
                }
            } else {
                if (messageType >= 0) {
                    violation(frame, "a new message inside an unfinished one");
                }
                messageType = frame.opcode();
                message.reset();
            }
            message.write(frame.payload(), 0, frame.payload().length);
            if (message.size() > maxMessage) {
                violation(frame, "the message is now " + message.size() + " bytes, over the limit of " + maxMessage);
            }
            if (frame.fin()) {
                byte[] whole = message.toByteArray();
                int type = messageType;
                messageType = -1;
                message.reset();
                if (type == TEXT && !validUtf8(whole)) {
                    violation(frame, "the text message it ends (" + whole.length + " bytes) is not valid UTF-8");
                }
                messages.accept(new Message(type, whole));
            }
        }

        private void control(Frame frame) {
            if (!frame.fin()) {
                violation(frame, "a fragmented control frame");
            }
            if (frame.payload().length > 125) {
                violation(frame, "a control frame over 125 bytes");
            }
            if (frame.opcode() != CLOSE) {
                return;
            }
            byte[] payload = frame.payload();
            if (!closed) {
                closeCode = payload.length >= 2 ? frame.closeCode() : -1;
            }
            closed = true;
            if (payload.length == 1) {
                violation(frame, "a close payload of one byte");
            } else if (payload.length >= 2) {
                int code = frame.closeCode();
                if (!validCloseCode(code) && code != excusedCloseCode) {
                    violation(frame, "close code " + code + " may not be sent");
                }
                if (!validUtf8(Arrays.copyOfRange(payload, 2, payload.length))) {
                    violation(frame, "the close reason is not valid UTF-8");
                }
            }
        }

        private static String markText(byte[] payload) {
            int at = markAt(payload);
            int end = at;
            while (end < payload.length && end < at + 40 && payload[end] != '|') {
                end++;
            }
            return new String(payload, at, end - at, StandardCharsets.US_ASCII);
        }
    }

    // ------------------------------------------------------------------ the backends

    /** One raw backend: its server socket, its connections from the gateway, and what they saw. */
    public static final class RawBackend {
        public final String sessionKey;
        public final int number;
        public final AtomicInteger framesReceived = new AtomicInteger();
        public final AtomicInteger connections = new AtomicInteger();
        public final List<Integer> closeCodesReceived = new CopyOnWriteArrayList<>();
        private final RawBackendLauncher launcher;
        private final ServerSocket server;
        private final Context context;
        private final Promise<String> exit = Promise.promise();
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final List<Thread> threads = new CopyOnWriteArrayList<>();
        private volatile boolean stopped;
        private volatile boolean fuzzing;

        RawBackend(RawBackendLauncher launcher, String sessionKey, int number, ServerSocket server, Context context) {
            this.launcher = launcher;
            this.sessionKey = sessionKey;
            this.number = number;
            this.server = server;
            this.context = context;
        }

        /** Whether the gateway stopped it (as the session's end must, even after a crash). */
        public boolean stopped() {
            return stopped;
        }

        public boolean fuzzing() {
            return fuzzing;
        }

        /** Whether none of its threads runs any more. */
        public boolean quiet() {
            return threads.stream().noneMatch(Thread::isAlive);
        }

        /** Whether its server socket and every connection are closed. */
        public boolean closed() {
            return server.isClosed() && sockets.stream().allMatch(Socket::isClosed);
        }

        @Override
        public String toString() {
            return "raw backend " + number + " (session " + sessionKey + (fuzzing ? ", fuzzing" : ", echo") + ")";
        }

        private void start() {
            spawn("accept", () -> {
                while (!stopped) {
                    Socket socket;
                    try {
                        socket = server.accept();
                    } catch (IOException e) {
                        return; // closed by stop or crash
                    }
                    sockets.add(socket);
                    if (stopped) {
                        closeQuietly(socket);
                        return;
                    }
                    int connection = connections.incrementAndGet();
                    spawn("conn-" + connection, () -> new Connection(this, socket, connection).run());
                }
            });
        }

        private void spawn(String name, Runnable body) {
            Thread thread = new Thread(body, "raw-backend-" + number + "-" + name);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }

        /** On the gateway's context: stops and is gone; "already gone" counts as done. */
        private Future<Void> stop() {
            stopped = true;
            closeAll();
            exit.tryComplete("stopped");
            return Future.succeededFuture();
        }

        /** The backend dies by itself, as a crashed container: its sockets drop and the exit is reported. */
        private void crash() {
            closeAll();
            context.runOnContext(v -> exit.tryComplete("crashed"));
        }

        private void closeAll() {
            closeQuietly(server);
            sockets.forEach(RawBackendLauncher::closeQuietly);
        }
    }

    /** The moves of a fuzzing backend; the last ones end its connection. */
    private enum Move {
        TEXT(14),
        TEXT_FRAGMENTED(10),
        BINARY(8),
        BINARY_FRAGMENTED(6),
        PING(5),
        PONG(3),
        BIG_VALID(2),
        PAUSE(8),
        BAD_UTF8(2),
        RESERVED_BITS(1),
        UNKNOWN_OPCODE(1),
        ORPHAN_CONTINUATION(1),
        INTERLEAVED(1),
        BIG_PING(1),
        FRAGMENTED_PING(1),
        OVERSIZE_FRAME(1),
        OVERSIZE_MESSAGE(1),
        MASKED(1),
        CLOSE(2),
        DROP(1),
        TRUNCATED(1),
        CRASH(1);

        final int weight;

        Move(int weight) {
            this.weight = weight;
        }

        static final int TOTAL =
                Arrays.stream(values()).mapToInt(move -> move.weight).sum();

        static Move pick(Random random) {
            int at = random.nextInt(TOTAL);
            for (Move move : values()) {
                at -= move.weight;
                if (at < 0) {
                    return move;
                }
            }
            throw new IllegalStateException();
        }
    }

    /** One websocket connection from the gateway to a raw backend. */
    private static final class Connection {
        private final RawBackend backend;
        private final RawBackendLauncher launcher;
        private final Socket socket;
        private final String who;
        private final LinkedBlockingQueue<Audit.Message> echoes = new LinkedBlockingQueue<>();
        private final Random echoRandom;
        private final Audit audit;
        private DataInputStream in;
        private OutputStream out;
        private volatile Random script;
        private volatile boolean done;
        private boolean closeSent;

        Connection(RawBackend backend, Socket socket, int number) {
            this.backend = backend;
            this.launcher = backend.launcher;
            this.socket = socket;
            this.who = "raw backend " + backend.number + " (session " + backend.sessionKey + ") connection " + number
                    + " received";
            this.echoRandom = new Random(launcher.seed * 31 + backend.number);
            this.audit =
                    new Audit(who, true, launcher.maxFrame, launcher.maxMessage, launcher.violations, this::message);
        }

        void run() {
            try {
                socket.setSoTimeout(0);
                in = new DataInputStream(socket.getInputStream());
                out = socket.getOutputStream();
                if (!handshake()) {
                    return;
                }
                backend.spawn("writer", this::writeLoop);
                readLoop();
            } catch (IOException gone) {
                // the gateway or a stop closed the connection
            } finally {
                done = true;
                closeQuietly(socket);
            }
        }

        private boolean handshake() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (head.size() < 16384) {
                int b = in.read();
                if (b < 0) {
                    return false;
                }
                head.write(b);
                byte[] so = head.toByteArray();
                int n = so.length;
                if (n >= 4 && so[n - 4] == '\r' && so[n - 3] == '\n' && so[n - 2] == '\r' && so[n - 1] == '\n') {
                    break;
                }
            }
            String key = null;
            for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0
                        && line.substring(0, colon)
                                .trim()
                                .toLowerCase(Locale.ROOT)
                                .equals("sec-websocket-key")) {
                    key = line.substring(colon + 1).trim();
                }
            }
            if (key == null) {
                launcher.violations.accept(backend + ": the gateway's upgrade request has no Sec-WebSocket-Key");
                out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return false;
            }
            write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return true;
        }

        private void readLoop() throws IOException {
            while (!done) {
                Frame frame;
                try {
                    frame = readFrame(in, 1 << 24);
                } catch (MalformedFrameException e) {
                    audit.malformed(e.getMessage());
                    return;
                } catch (EOFException e) {
                    audit.malformed("the connection ended inside a frame");
                    return;
                }
                if (frame == null) {
                    return;
                }
                backend.framesReceived.incrementAndGet();
                audit.frame(frame);
                if (frame.opcode() == PING && frame.fin() && frame.payload().length <= 125) {
                    Random fuzz = script;
                    if (fuzz == null || fuzz.nextInt(8) != 0) {
                        write(encode(true, 0, PONG, frame.payload(), null));
                    }
                } else if (frame.opcode() == CLOSE) {
                    backend.closeCodesReceived.add(frame.closeCode());
                    answerClose(frame);
                    return;
                }
            }
        }

        private void answerClose(Frame close) throws IOException {
            Random fuzz = script;
            if (fuzz != null && fuzz.nextInt(5) == 0) {
                return; // a fuzzing backend sometimes just drops: the gateway stops it after its wait
            }
            int code = close.closeCode();
            byte[] reply = validCloseCode(code) ? close.payload() : new byte[0];
            write(encode(true, 0, CLOSE, Arrays.copyOf(reply, Math.min(reply.length, 2)), null));
            synchronized (this) {
                closeSent = true;
            }
        }

        /** A whole message from the gateway: switches mode if asked, and is echoed. */
        private void message(Audit.Message message) {
            if (message.opcode() == TEXT && script == null) {
                String text = new String(message.payload(), StandardCharsets.UTF_8);
                if (text.startsWith(MODE_PREFIX + "fuzz:")) {
                    long seed = Long.parseLong(
                            text.substring((MODE_PREFIX + "fuzz:").length()).trim());
                    backend.fuzzing = true;
                    script = new Random(seed);
                }
            }
            echoes.add(message);
        }

        private void writeLoop() {
            int scriptLeft = -1;
            try {
                while (!done && !backend.stopped) {
                    Random fuzz = script;
                    if (fuzz != null && scriptLeft < 0) {
                        scriptLeft = 1 + fuzz.nextInt(30);
                    }
                    if (fuzz != null && scriptLeft > 0) {
                        drainEchoes();
                        scriptLeft--;
                        if (fuzzMove(fuzz)) {
                            return;
                        }
                        continue;
                    }
                    Audit.Message echo = echoes.poll(20, TimeUnit.MILLISECONDS);
                    if (echo != null) {
                        writeMessage(echo.opcode(), echo.payload(), echoRandom);
                    }
                }
            } catch (IOException | InterruptedException gone) {
                // closed underneath
            }
        }

        private void drainEchoes() throws IOException {
            for (Audit.Message echo = echoes.poll(); echo != null; echo = echoes.poll()) {
                writeMessage(echo.opcode(), echo.payload(), echoRandom);
            }
        }

        /** A valid message: one frame, or fragments within the gateway's frame limit. */
        private void writeMessage(int opcode, byte[] payload, Random random) throws IOException {
            List<byte[]> parts = payload.length > launcher.maxFrame || random.nextInt(3) == 0
                    ? splitWithin(random, payload, launcher.maxFrame)
                    : List.of(payload);
            for (int i = 0; i < parts.size(); i++) {
                writeFrame(i == parts.size() - 1, 0, i == 0 ? opcode : CONTINUATION, parts.get(i));
            }
        }

        private void writeFrame(boolean fin, int rsv, int opcode, byte[] payload) throws IOException {
            write(encode(fin, rsv, opcode, payload, null));
        }

        private void write(byte[] bytes) throws IOException {
            synchronized (this) {
                if (closeSent) {
                    throw new IOException("closed");
                }
                out.write(bytes);
                out.flush();
            }
        }

        private byte[] marked(String move, Random random, byte[] rest) {
            return concat(mark(move, random).getBytes(StandardCharsets.US_ASCII), rest);
        }

        /** One scripted move; true when it ended the connection. */
        private boolean fuzzMove(Random random) throws IOException, InterruptedException {
            int maxFrame = launcher.maxFrame;
            switch (Move.pick(random)) {
                case TEXT -> writeFrame(true, 0, TEXT, randomUtf8(random, 4096));
                case BINARY -> writeFrame(true, 0, BINARY, randomBytes(random, random.nextInt(4097)));
                case TEXT_FRAGMENTED, BINARY_FRAGMENTED -> {
                    boolean text = random.nextBoolean();
                    List<byte[]> parts = splitAnywhere(
                            random, text ? randomUtf8(random, 4096) : randomBytes(random, random.nextInt(4097)), 6);
                    for (int i = 0; i < parts.size(); i++) {
                        writeFrame(
                                i == parts.size() - 1, 0, i == 0 ? (text ? TEXT : BINARY) : CONTINUATION, parts.get(i));
                        if (random.nextInt(4) == 0) {
                            writeFrame(
                                    true,
                                    0,
                                    random.nextBoolean() ? PING : PONG,
                                    randomBytes(random, random.nextInt(126)));
                        }
                        if (random.nextInt(4) == 0) {
                            Thread.sleep(random.nextInt(30)); // a client may come or go between fragments
                        }
                    }
                }
                case PING -> writeFrame(true, 0, PING, randomBytes(random, random.nextInt(126)));
                case PONG -> writeFrame(true, 0, PONG, randomBytes(random, random.nextInt(126)));
                case BIG_VALID ->
                    writeMessage(
                            random.nextBoolean() ? TEXT : BINARY,
                            random.nextBoolean()
                                    ? randomUtf8(random, (int) launcher.maxMessage - 16)
                                    : randomBytes(random, random.nextInt((int) launcher.maxMessage)),
                            random);
                case PAUSE -> Thread.sleep(random.nextInt(60));
                case BAD_UTF8 -> {
                    if (random.nextBoolean()) {
                        writeFrame(true, 0, TEXT, marked("b-utf8", random, invalidUtf8(random, 2048)));
                    } else {
                        writeFrame(false, 0, TEXT, randomUtf8(random, 1024));
                        writeFrame(
                                random.nextBoolean(),
                                0,
                                CONTINUATION,
                                marked("b-utf8", random, concat(alwaysInvalid(random), randomUtf8(random, 512))));
                    }
                }
                case RESERVED_BITS ->
                    writeFrame(
                            true,
                            1 + random.nextInt(7),
                            random.nextBoolean() ? TEXT : BINARY,
                            marked("b-rsv", random, randomUtf8(random, 256)));
                case UNKNOWN_OPCODE -> {
                    int[] unknown = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
                    writeFrame(
                            true,
                            0,
                            unknown[random.nextInt(unknown.length)],
                            marked("b-op", random, randomBytes(random, 20)));
                }
                case ORPHAN_CONTINUATION ->
                    writeFrame(
                            random.nextBoolean(), 0, CONTINUATION, marked("b-orphan", random, randomUtf8(random, 256)));
                case INTERLEAVED -> {
                    writeFrame(false, 0, random.nextBoolean() ? TEXT : BINARY, randomUtf8(random, 512));
                    writeFrame(
                            random.nextBoolean(),
                            0,
                            random.nextBoolean() ? TEXT : BINARY,
                            marked("b-interleaved", random, randomUtf8(random, 256)));
                }
                case BIG_PING -> writeFrame(true, 0, PING, randomBytes(random, 126 + random.nextInt(200)));
                case FRAGMENTED_PING -> writeFrame(false, 0, PING, randomBytes(random, random.nextInt(100)));
                case OVERSIZE_FRAME ->
                    writeFrame(
                            random.nextBoolean(),
                            0,
                            random.nextBoolean() ? TEXT : BINARY,
                            marked(
                                    "b-bigframe",
                                    random,
                                    "x".repeat(maxFrame + random.nextInt(4096)).getBytes(StandardCharsets.US_ASCII)));
                case OVERSIZE_MESSAGE -> {
                    long sent = 0;
                    boolean first = true;
                    int type = random.nextBoolean() ? TEXT : BINARY;
                    while (sent <= launcher.maxMessage) {
                        int size = maxFrame / 2 + random.nextInt(maxFrame / 2);
                        byte[] payload = "y".repeat(size).getBytes(StandardCharsets.US_ASCII);
                        if (sent + size > launcher.maxMessage) {
                            payload = concat(marked("b-bigmsg", random, new byte[0]), payload); // crosses the limit
                        }
                        writeFrame(false, 0, first ? type : CONTINUATION, payload);
                        sent += payload.length;
                        first = false;
                    }
                    writeFrame(true, 0, CONTINUATION, marked("b-bigmsg", random, new byte[0]));
                }
                case MASKED ->
                    write(encode(
                            true,
                            0,
                            random.nextBoolean() ? TEXT : BINARY,
                            marked("b-masked", random, randomUtf8(random, 256)),
                            random));
                case CLOSE -> {
                    writeClose(random);
                    return true;
                }
                case DROP -> {
                    closeQuietly(socket);
                    return true;
                }
                case TRUNCATED -> {
                    byte[] frame = encode(true, 0, BINARY, marked("b-trunc", random, randomBytes(random, 200)), null);
                    write(Arrays.copyOf(frame, 1 + random.nextInt(frame.length - 1)));
                    closeQuietly(socket);
                    return true;
                }
                case CRASH -> {
                    backend.crash();
                    return true;
                }
                default -> throw new IllegalStateException();
            }
            return false;
        }

        /** A close frame with a random code, valid or not, and a random reason, valid or not. */
        private void writeClose(Random random) throws IOException {
            int[] codes = {
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
                0,
                999,
                1004,
                1005,
                1006,
                1015,
                1016,
                2999,
                3000 + random.nextInt(2000),
                3000 + random.nextInt(2000),
                5000 + random.nextInt(60536),
                5000 + random.nextInt(60536),
                5000 + random.nextInt(60536)
            };
            byte[] payload;
            switch (random.nextInt(10)) {
                case 0 -> payload = new byte[0];
                case 1 -> payload = new byte[] {0x03}; // a one-byte payload
                default -> {
                    int code = codes[random.nextInt(codes.length)];
                    byte[] reason = random.nextInt(6) == 0 ? invalidUtf8(random, 60) : randomUtf8(random, 123);
                    payload = concat(new byte[] {(byte) (code >> 8), (byte) code}, reason);
                    if (random.nextInt(8) == 0) {
                        payload = concat(payload, randomBytes(random, 130)); // over 125 bytes
                    }
                }
            }
            if (payload.length >= 2) {
                int code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
                audit.excuseCloseCode(code); // Vert.x echoes a peer's close code before anyone can look at it
            }
            writeFrame(true, 0, CLOSE, payload);
        }
    }

    static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1")
                    .digest((key + WEBSOCKET_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sec-WebSocket-Accept for {@code key}, for a test's own client handshake. */
    public static String acceptFor(String key) {
        return accept(key);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // already closed
        }
    }

    // ------------------------------------------------------------------ the launcher

    private final Vertx vertx;
    private final long seed;
    private final int maxFrame;
    private final long maxMessage;
    private final Consumer<String> violations;
    private final List<RawBackend> backends = new CopyOnWriteArrayList<>();
    public final AtomicInteger launches = new AtomicInteger();

    /**
     * @param maxFrame the gateway's listen.maxFrameSize: echoes are fragmented within it, and every
     *     frame the gateway sends a backend is checked against it
     * @param violations where every breach of the protocol a backend sees goes
     */
    public RawBackendLauncher(Vertx vertx, long seed, int maxFrame, long maxMessage, Consumer<String> violations) {
        this.vertx = vertx;
        this.seed = seed;
        this.maxFrame = maxFrame;
        this.maxMessage = maxMessage;
        this.violations = violations;
    }

    @Override
    public String name() {
        return "raw";
    }

    public List<RawBackend> backends() {
        return List.copyOf(backends);
    }

    public int running() {
        return (int) backends.stream().filter(backend -> !backend.stopped).count();
    }

    /** Waits until every backend's threads have ended; false if some still run after {@code wait}. */
    public boolean awaitQuiet(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            if (backends.stream().allMatch(RawBackend::quiet)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        int number = launches.incrementAndGet();
        Context context = vertx.getOrCreateContext();
        ServerSocket server;
        try {
            server = new ServerSocket(0, 16, InetAddress.getByName("127.0.0.1"));
        } catch (IOException e) {
            return Future.failedFuture(new FailureException(Failure.START_FAILED, "raw backend: " + e.getMessage(), e));
        }
        RawBackend backend = new RawBackend(this, request.sessionKey(), number, server, context);
        backends.add(backend);
        backend.start();
        return Future.succeededFuture(new Backend(
                backend.toString(),
                request.sessionKey(),
                request.route().name(),
                request.route().version(),
                SocketAddress.inetSocketAddress(server.getLocalPort(), "127.0.0.1"),
                backend.exit.future(),
                backend::stop));
    }

    @Override
    public Future<List<Backend>> discover() {
        return Future.succeededFuture(List.of());
    }

    @Override
    public boolean backendsOutliveGateway() {
        return false;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
