package dev.berth.gateway;

import dev.berth.gateway.launcher.RawBackendLauncher;
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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A websocket client that writes frames byte by byte, so a test can send what no well-behaved
 * library would: reserved bits, unknown opcodes, fragmented pings, invalid UTF-8, bad close
 * payloads, unmasked frames, half a handshake. It reads the gateway's frames just as raw.
 */
public final class RawWebSocket implements AutoCloseable {

    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    /** A frame as the gateway sent it. */
    public record Frame(boolean fin, int rsv, int opcode, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The close code of a close frame, or -1 when it has none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
        }
    }

    private static final Random RANDOM = new Random();

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    public final int status;
    public final Map<String, String> headers;

    private RawWebSocket(Socket socket, int status, Map<String, String> headers) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.status = status;
        this.headers = headers;
    }

    /** Opens /ws with these extra request headers (e.g. Cookie, Origin); check {@link #status} for 101. */
    public static RawWebSocket open(int port, Map<String, String> extraHeaders) throws IOException {
        return open(InetAddress.getLoopbackAddress(), port, "/ws", extraHeaders);
    }

    /** From a chosen local address (any of 127.0.0.0/8), so a test can be several clients at once. */
    public static RawWebSocket open(InetAddress from, int port, String path, Map<String, String> extraHeaders)
            throws IOException {
        return open(from, port, path, extraHeaders, new byte[0]);
    }

    /** Sends {@code preamble} (a PROXY protocol header) before the upgrade request. */
    public static RawWebSocket open(
            InetAddress from, int port, String path, Map<String, String> extraHeaders, byte[] preamble)
            throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        socket.setSoTimeout(20_000);
        socket.getOutputStream().write(preamble);
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n");
        extraHeaders.forEach(
                (name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        request.append("\r\n");
        socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
        InputStream raw = socket.getInputStream();
        String statusLine = readLine(raw);
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(raw); !line.isEmpty(); line = readLine(raw)) {
            int colon = line.indexOf(':');
            headers.merge(
                    line.substring(0, colon).trim().toLowerCase(),
                    line.substring(colon + 1).trim(),
                    (a, b) -> a + "\n" + b);
        }
        return new RawWebSocket(socket, status, headers);
    }

    /** The body of a refused upgrade (its Content-Length bytes, read once), e.g. {@code "capacity: …\n"}. */
    public String body() throws IOException {
        return new String(
                in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0"))), StandardCharsets.UTF_8);
    }

    /** One line of an HTTP response head, without its CR LF. */
    public static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("connection closed in the middle of the response head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    /** Writes one frame, masked as a client must (unless {@code masked} is false). */
    public void send(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) throws IOException {
        out.write(encode(fin, rsv, opcode, payload, masked));
        out.flush();
    }

    private static byte[] encode(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write((fin ? 0x80 : 0) | (rsv & 0x7) << 4 | opcode & 0xF);
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            frame.write(maskBit | payload.length);
        } else if (payload.length < 65536) {
            frame.write(maskBit | 126);
            frame.write(payload.length >> 8);
            frame.write(payload.length);
        } else {
            frame.write(maskBit | 127);
            long length = payload.length;
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) (length >> shift));
            }
        }
        byte[] body = payload.clone();
        if (masked) {
            byte[] mask = new byte[4];
            RANDOM.nextBytes(mask);
            frame.write(mask, 0, mask.length);
            for (int i = 0; i < body.length; i++) {
                body[i] ^= mask[i % 4];
            }
        }
        frame.write(body, 0, body.length);
        return frame.toByteArray();
    }

    public void send(boolean fin, int opcode, byte[] payload) throws IOException {
        send(fin, 0, opcode, payload, true);
    }

    public void sendText(String text) throws IOException {
        send(true, TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A close frame with {@code code} (or none when negative) and raw reason bytes. */
    public static byte[] closePayload(int code, byte[] reason) {
        if (code < 0) {
            return new byte[0];
        }
        byte[] payload = new byte[2 + reason.length];
        payload[0] = (byte) (code >> 8);
        payload[1] = (byte) code;
        System.arraycopy(reason, 0, payload, 2, reason.length);
        return payload;
    }

    /** The next frame, or null when the gateway closed the TCP connection (or went silent for 20s). */
    public Frame next() throws IOException {
        try {
            RawBackendLauncher.Frame frame = RawBackendLauncher.readFrame(in, Integer.MAX_VALUE);
            return frame == null ? null : new Frame(frame.fin(), frame.rsv(), frame.opcode(), frame.payload());
        } catch (EOFException | SocketTimeoutException | java.net.SocketException gone) {
            return null;
        }
    }

    /** Skips data frames until a close frame; returns it, or null when the connection dropped without one. */
    public Frame awaitClose() throws IOException {
        for (Frame frame = next(); frame != null; frame = next()) {
            if (frame.opcode() == CLOSE) {
                return frame;
            }
        }
        return null;
    }

    /** The next frame that is not a ping from the gateway's keepalive. */
    public Frame nextIgnoringPings() throws IOException {
        Frame frame = next();
        while (frame != null && frame.opcode() == PING) {
            frame = next();
        }
        return frame;
    }

    public void setReadTimeout(int ms) throws IOException {
        socket.setSoTimeout(ms);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
