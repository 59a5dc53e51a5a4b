package dev.berth.handler;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * One TCP connection, on a thread of its own: plain HTTP requests until it is upgraded to a
 * websocket or ends.
 *
 * <ul>
 *   <li>{@code GET /ready} and {@code HEAD /ready}: 200 {@code ready}; any other plain request:
 *       404. HTTP/1.1 keep-alive, as a pooling client expects.</li>
 *   <li>A websocket upgrade on any path (RFC 6455 section 4.2; no extension, no subprotocol)
 *       runs a {@link WebSocketConnection} on the same thread.</li>
 * </ul>
 */
final class HttpConnection implements Runnable {

    /** An HTTP connection with no request for this long is closed. */
    private static final int HTTP_IDLE_MS = 60_000;
    /** Request bodies a plain request may carry (skipped to reach the next request). */
    private static final long MAX_SKIPPED_BODY = 1 << 20;

    private static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final HandlerServer server;
    private final Socket socket;

    HttpConnection(HandlerServer server, Socket socket) {
        this.server = server;
        this.socket = socket;
    }

    @Override
    public void run() {
        boolean upgraded = false;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(HTTP_IDLE_MS);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 16 << 10);
            OutputStream out = socket.getOutputStream();
            while (true) {
                HttpRequest request = HttpRequest.read(in);
                if (request == null) {
                    return; // the client closed, or went quiet
                }
                if (request.problem != null) {
                    respond(out, request.problem, "", false, null);
                    return;
                }
                if (request.wantsWebSocket()) {
                    String refusal = request.webSocketProblem();
                    if (refusal != null) {
                        respond(
                                out,
                                refusal,
                                "",
                                false,
                                refusal.startsWith("426") ? "sec-websocket-version: 13\r\n" : null);
                        return;
                    }
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
                                    + "sec-websocket-accept: " + acceptKey(request.header("sec-websocket-key"))
                                    + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    socket.setSoTimeout(0); // a websocket may be quiet for as long as it likes
                    upgraded = true;
                    new WebSocketConnection(server, socket, in, out, request.path()).run();
                    return;
                }
                boolean ready = "/ready".equals(request.path())
                        && ("GET".equals(request.method) || "HEAD".equals(request.method));
                long body = request.contentLength();
                boolean keepAlive = request.keepAlive() && body >= 0 && body <= MAX_SKIPPED_BODY;
                respond(
                        out,
                        ready ? "200 OK" : "404 Not Found",
                        ready ? "ready" : "not found",
                        keepAlive,
                        null,
                        "HEAD".equals(request.method));
                if (!keepAlive) {
                    return;
                }
                in.skipNBytes(body);
            }
        } catch (IOException e) {
            // the client went away mid-request: nothing to answer
        } finally {
            if (!upgraded) {
                FrameWriter.closeQuietly(socket);
            }
        }
    }

    private void respond(OutputStream out, String status, String body, boolean keepAlive, String extraHeaders)
            throws IOException {
        respond(out, status, body, keepAlive, extraHeaders, false);
    }

    private void respond(
            OutputStream out, String status, String body, boolean keepAlive, String extraHeaders, boolean headOnly)
            throws IOException {
        byte[] content = body.getBytes(StandardCharsets.US_ASCII);
        String head = "HTTP/1.1 " + status + "\r\ncontent-type: text/plain\r\ncontent-length: " + content.length
                + "\r\n" + (keepAlive ? "" : "connection: close\r\n") + (extraHeaders == null ? "" : extraHeaders)
                + "\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[headBytes.length + (headOnly ? 0 : content.length)];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        if (!headOnly) {
            System.arraycopy(content, 0, all, headBytes.length, content.length);
        }
        out.write(all); // one write: one segment for the whole answer
        out.flush();
    }

    /** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2). */
    static String acceptKey(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + WEBSOCKET_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the runtime has no SHA-1", e);
        }
    }
}
