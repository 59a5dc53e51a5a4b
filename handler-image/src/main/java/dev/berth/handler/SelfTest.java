package dev.berth.handler;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code java -jar berth-handler.jar --self-test}: talks to the process's own server once the
 * way a session would (/ready, hello, an echo, a fragmented echo, a ping, a claim, a probe, state,
 * close) and reports success.
 *
 * <p>The image build runs it with {@code -XX:ArchiveClassesAtExit}, so the JVM records every
 * class a real session start and first connection need into a CDS archive (a faster start), and
 * a runtime missing a module or a shared library fails the build instead of a session. The client
 * is a few lines on a raw socket, so the runtime needs nothing beyond java.base for it.
 */
final class SelfTest {

    private static final int WAIT_MILLIS = 10_000;
    /** RFC 6455 section 1.3's example key and the answer it must get. */
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private final InputStream in;
    private final OutputStream out;

    private SelfTest(Socket socket) throws IOException {
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Runs the exchange against the loopback address and {@code port}; throws on any deviation. */
    static void run(int port, HandlerLog log) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (Socket socket = new Socket(loopback, port)) {
            socket.setSoTimeout(WAIT_MILLIS);
            SelfTest http = new SelfTest(socket);
            String ready = http.request("GET /ready HTTP/1.1\r\nhost: self-test\r\n\r\n");
            check(ready.startsWith("HTTP/1.1 200 ") && ready.endsWith("\r\n\r\nready"), "/ready answered " + ready);
            String missing = http.request("HEAD /nothing HTTP/1.1\r\nhost: self-test\r\n\r\n");
            check(missing.startsWith("HTTP/1.1 404 "), "HEAD /nothing answered " + missing);
        }
        try (Socket socket = new Socket(loopback, port)) {
            socket.setSoTimeout(WAIT_MILLIS);
            SelfTest ws = new SelfTest(socket);
            String upgrade = ws.request("GET /self-test HTTP/1.1\r\nhost: self-test\r\nupgrade: websocket\r\n"
                    + "connection: Upgrade\r\nsec-websocket-key: " + KEY + "\r\nsec-websocket-version: 13\r\n\r\n");
            String accept = "sec-websocket-accept: " + ACCEPT.toLowerCase(java.util.Locale.ROOT);
            check(
                    upgrade.startsWith("HTTP/1.1 101 ")
                            && upgrade.toLowerCase(java.util.Locale.ROOT).contains(accept),
                    "the upgrade answered " + upgrade);
            String hello = ws.nextText();
            check(hello.startsWith("{\"type\":\"hello\""), "first message is not a hello: " + hello);
            ws.send(0x81, "self-test echo");
            check("self-test echo".equals(ws.nextEcho()), "the echo did not come back");
            ws.send(0x01, "self-");
            ws.send(0x89, "ping");
            ws.send(0x80, "test");
            check(
                    "self-".equals(ws.nextEcho()) && "test".equals(ws.nextEcho()),
                    "the fragmented echo did not come back");
            ws.send(0x81, "{\"cmd\":\"feed\",\"perSecond\":0}");
            String session = hello.substring(hello.indexOf("\"session\":\"") + 11, hello.indexOf("\",\"version\""));
            ws.send(0x81, "{\"cmd\":\"claim\",\"session\":\"" + session + "\"}");
            check(
                    ws.nextOfType("hello").startsWith("{\"type\":\"hello\""),
                    "a claim for its own session is not greeted");
            ws.send(0x81, "{\"cmd\":\"probe\",\"host\":\"" + loopback.getHostAddress() + "\",\"port\":" + port + "}");
            String probe = ws.nextOfType("probe");
            check(probe.contains("\"reachable\":true"), "the probe of its own port answered " + probe);
            ws.send(0x81, "{\"cmd\":\"state\"}");
            String state = ws.nextOfType("state");
            check(
                    state.contains("\"framesReceived\":3,") && state.contains("\"pingsReceived\":1,"),
                    "state counts " + state);
            ws.sendFrame(0x88, new byte[] {0x03, (byte) 0xE8}); // close 1000
            int[] close = ws.untilClose();
            check(close[0] == 1000, "the close was answered with " + close[0]);
            check(ws.in.read() < 0, "the connection stayed open after the close handshake");
        }
        log.info("self-test passed");
    }

    /** Sends a request head and returns the response (head and body, by Content-Length). */
    private String request(String head) throws IOException {
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        while (!response.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            response.write(readByte());
        }
        String text = response.toString(StandardCharsets.ISO_8859_1);
        int at = text.toLowerCase(java.util.Locale.ROOT).indexOf("content-length: ");
        if (at >= 0 && !head.startsWith("HEAD ") && !text.startsWith("HTTP/1.1 101 ")) {
            int length = Integer.parseInt(text.substring(at + 16, text.indexOf('\r', at)));
            for (int i = 0; i < length; i++) {
                response.write(readByte());
            }
        }
        return response.toString(StandardCharsets.ISO_8859_1);
    }

    private void send(int firstByte, String text) throws IOException {
        sendFrame(firstByte, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A masked client frame (payload under 126 bytes). */
    private void sendFrame(int firstByte, byte[] payload) throws IOException {
        byte[] mask = {0x1b, 0x2e, 0x7f, 0x40};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) firstByte;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i & 3]);
        }
        out.write(frame);
        out.flush();
    }

    /** The next frame as {opcode | fin << 8, payload...} decoded: returns opcode+fin and fills {@code payload}. */
    private byte[] nextFrame(int[] opcodeAndFin) throws IOException {
        int b0 = readByte();
        int length = readByte() & 0x7F;
        if (length == 126) {
            length = (readByte() << 8) | readByte();
        } else if (length == 127) {
            throw new IOException("self-test: unexpected 64-bit frame length");
        }
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) readByte();
        }
        opcodeAndFin[0] = b0 & 0x0F;
        opcodeAndFin[1] = b0 >> 7;
        return payload;
    }

    /** The next text or continuation frame's text, skipping pongs. */
    private String nextText() throws IOException {
        int[] kind = new int[2];
        while (true) {
            byte[] payload = nextFrame(kind);
            if (kind[0] <= 0x2) {
                return new String(payload, StandardCharsets.UTF_8);
            }
            check(kind[0] == 0xA, "unexpected frame with opcode " + kind[0]);
        }
    }

    /** The next echoed frame's text, skipping the handler's own messages. */
    private String nextEcho() throws IOException {
        while (true) {
            String text = nextText();
            if (!text.startsWith("{\"type\"")) {
                return text;
            }
        }
    }

    private String nextOfType(String type) throws IOException {
        while (true) {
            String text = nextText();
            if (text.startsWith("{\"type\":\"" + type + "\"")) {
                return text;
            }
        }
    }

    /** Reads until the close frame; returns its code. */
    private int[] untilClose() throws IOException {
        int[] kind = new int[2];
        while (true) {
            byte[] payload = nextFrame(kind);
            if (kind[0] == 0x8) {
                return new int[] {payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1};
            }
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("self-test failed: the connection ended early");
        }
        return b;
    }

    private static void check(boolean condition, String failure) {
        if (!condition) {
            throw new IllegalStateException("self-test failed: " + failure);
        }
    }
}
