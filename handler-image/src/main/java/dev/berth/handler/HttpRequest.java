package dev.berth.handler;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** An HTTP/1.1 request head: the request line and the few headers the handler looks at. */
final class HttpRequest {

    private static final int MAX_REQUEST_HEAD = 8_192;

    String method;
    String target;
    String version;
    /** Header lines as read, "name: value". */
    final List<String> headers = new ArrayList<>();
    /** Non-null when the head is malformed: the status line to answer with before closing. */
    String problem;

    /** Reads the next request head, or returns null at the end of the stream. */
    static HttpRequest read(InputStream in) throws IOException {
        HttpRequest request = new HttpRequest();
        byte[] line = new byte[MAX_REQUEST_HEAD];
        int total = 0;
        boolean first = true;
        while (true) {
            int length = 0;
            int b;
            while ((b = in.read()) != '\n') {
                if (b < 0) {
                    return null; // ended before a complete head: nothing to answer
                }
                if (++total > MAX_REQUEST_HEAD) {
                    request.problem = "431 Request Header Fields Too Large";
                    return request;
                }
                line[length++] = (byte) b;
            }
            if (length > 0 && line[length - 1] == '\r') {
                length--;
            }
            String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
            if (first) {
                if (text.isEmpty()) {
                    continue; // empty lines before the request line are allowed (RFC 9112 section 2.2)
                }
                first = false;
                int space1 = text.indexOf(' ');
                int space2 = text.indexOf(' ', space1 + 1);
                if (space1 <= 0 || space2 <= space1 + 1 || text.indexOf(' ', space2 + 1) >= 0) {
                    request.problem = "400 Bad Request";
                    return request;
                }
                request.method = text.substring(0, space1);
                request.target = text.substring(space1 + 1, space2);
                request.version = text.substring(space2 + 1);
                if (!request.version.startsWith("HTTP/1.")) {
                    request.problem = "400 Bad Request";
                    return request;
                }
            } else if (text.isEmpty()) {
                return request;
            } else {
                request.headers.add(text);
            }
        }
    }

    /** The value of the first header named {@code name} (lower case), trimmed, or null. */
    String header(String name) {
        for (String line : headers) {
            int colon = line.indexOf(':');
            if (colon == name.length() && line.regionMatches(true, 0, name, 0, colon)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** True if a header named {@code name} lists {@code token} (comma-separated, any case). */
    boolean headerHasToken(String name, String token) {
        String value = header(name);
        if (value == null) {
            return false;
        }
        for (String part : value.split(",")) {
            if (part.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }

    /** The path, without the query. */
    String path() {
        int query = target.indexOf('?');
        return query < 0 ? target : target.substring(0, query);
    }

    boolean wantsWebSocket() {
        return headerHasToken("upgrade", "websocket");
    }

    /** Null if the upgrade is valid, else the status to refuse it with (RFC 6455 section 4.2.1). */
    String webSocketProblem() {
        if (!"GET".equals(method)
                || !headerHasToken("connection", "upgrade")
                || header("sec-websocket-key") == null
                || header("sec-websocket-key").isEmpty()) {
            return "400 Bad Request";
        }
        if (!"13".equals(header("sec-websocket-version"))) {
            return "426 Upgrade Required";
        }
        return null;
    }

    /** Content-Length of the body (0 if none), or -1 if it cannot be skipped (chunked or bad). */
    long contentLength() {
        if (header("transfer-encoding") != null) {
            return -1;
        }
        String value = header("content-length");
        if (value == null) {
            return 0;
        }
        try {
            long length = Long.parseLong(value);
            return length < 0 ? -1 : length;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    boolean keepAlive() {
        if (headerHasToken("connection", "close")) {
            return false;
        }
        return !"HTTP/1.0".equals(version) || headerHasToken("connection", "keep-alive");
    }
}
