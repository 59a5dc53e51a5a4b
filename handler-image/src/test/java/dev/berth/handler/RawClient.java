package dev.berth.handler;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A websocket client on a plain blocking socket that writes any frame header it is told to,
 * reserved bits and bad opcodes included: the only way to see what the server does with frames
 * a real client library refuses to send.
 */
final class RawClient implements AutoCloseable {

    static final int CONTINUATION = 0x0;
    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    /** A received frame. */
    record Frame(int opcode, boolean fin, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
        }

        String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }
    }

    /** What ended the connection: the server's close frame, or null when TCP ended without one. */
    record Ending(List<Frame> dataFrames, Frame close) {}

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 << 10));
        this.out = socket.getOutputStream();
    }

    static RawClient connect(int port) throws IOException {
        return connect(port, 0);
    }

    /**
     * Connects with a receive buffer of {@code receiveBufferSize} bytes (0: the system's, which Linux
     * grows up to tcp_rmem's maximum, tens of MiB on loopback): a small one makes a client that does
     * not read back up the server after a few KiB.
     */
    static RawClient connect(int port, int receiveBufferSize) throws IOException {
        Socket socket = new Socket();
        if (receiveBufferSize > 0) {
            socket.setReceiveBufferSize(receiveBufferSize); // before connect: the window scale is fixed then
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), (int) (TestClient.WAIT_SECONDS * 1000));
        socket.setSoTimeout((int) (TestClient.WAIT_SECONDS * 1000));
        socket.setTcpNoDelay(true);
        RawClient client = new RawClient(socket);
        client.out.write(("GET /raw HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        String head = client.readHead();
        if (!head.startsWith("HTTP/1.1 101")) {
            throw new IOException("no upgrade: " + head);
        }
        return client;
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            head.write(in.readUnsignedByte());
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** Sends a frame with {@code firstByte} = FIN | RSV1-3 | opcode as given, masked as a client must. */
    void sendRaw(int firstByte, byte[] payload) throws IOException {
        sendTogether(frame(firstByte, payload));
    }

    /** Sends encoded frames in one write, so the server reads them in one go. */
    void sendTogether(byte[]... frames) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] frame : frames) {
            all.write(frame);
        }
        out.write(all.toByteArray());
        out.flush();
    }

    /** Sends only the header of a masked frame announcing {@code length} payload bytes. */
    void sendHeader(int firstByte, long length) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(14);
        header.put((byte) firstByte).put((byte) (0x80 | 127)).putLong(length).putInt(0);
        out.write(header.array());
        out.flush();
    }

    static byte[] frame(boolean fin, int opcode, byte[] payload) {
        return frame((fin ? 0x80 : 0) | opcode, payload);
    }

    static byte[] frame(int firstByte, byte[] payload) {
        ByteBuffer frame = ByteBuffer.allocate(14 + payload.length);
        frame.put((byte) firstByte);
        if (payload.length < 126) {
            frame.put((byte) (0x80 | payload.length));
        } else if (payload.length < 65536) {
            frame.put((byte) (0x80 | 126)).putShort((short) payload.length);
        } else {
            frame.put((byte) (0x80 | 127)).putLong(payload.length);
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.put(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.put((byte) (payload[i] ^ mask[i & 3]));
        }
        return Arrays.copyOf(frame.array(), frame.position());
    }

    void send(boolean fin, int opcode, byte[] payload) throws IOException {
        sendRaw((fin ? 0x80 : 0) | opcode, payload);
    }

    /** A close frame with {@code code} and raw reason bytes. */
    void sendClose(int code, byte[] reason) throws IOException {
        byte[] payload = new byte[2 + reason.length];
        payload[0] = (byte) (code >> 8);
        payload[1] = (byte) code;
        System.arraycopy(reason, 0, payload, 2, reason.length);
        send(true, CLOSE, payload);
    }

    /** The next frame (control frames included), or null when the server ended TCP. */
    Frame read() throws IOException {
        int b0;
        try {
            b0 = in.readUnsignedByte();
        } catch (EOFException e) {
            return null;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no frame and no end of TCP within " + TestClient.WAIT_SECONDS + " s");
        } catch (IOException e) {
            return null; // connection reset: also an end without a frame
        }
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame(b0 & 0x0F, (b0 & 0x80) != 0, payload);
    }

    /**
     * Reads until the server's close frame or the end of TCP, skipping listing updates and the
     * hello; returns the echoed data frames and the close frame (null if TCP ended without one).
     */
    Ending readToEnd() throws IOException {
        List<Frame> data = new ArrayList<>();
        for (Frame frame = read(); frame != null; frame = read()) {
            if (frame.opcode() == CLOSE) {
                return new Ending(data, frame);
            }
            boolean own = frame.opcode() == TEXT && frame.fin() && frame.text().startsWith("{\"type\"");
            if (!own && frame.opcode() != PONG) {
                data.add(frame);
            }
        }
        return new Ending(data, null);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
