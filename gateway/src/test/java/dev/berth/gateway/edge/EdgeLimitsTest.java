package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every edge limit answered with its documented status, before anything is launched: slow or
 * oversized handshakes, foreign origins, too many connections, per-client and gateway-wide
 * admission, a full launch queue, tokens that were not issued here, and TLS.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EdgeLimitsTest extends FakeLauncherGatewayTest {

    @Override
    protected Duration launchTime() {
        return Duration.ofMillis(1);
    }

    private static RawWebSocket from(String address, int port, Map<String, String> headers) throws Exception {
        return RawWebSocket.open(InetAddress.getByName(address), port, "/ws", headers);
    }

    @Test
    void aClientThatSendsHalfAHandshakeIsClosedAtTheHandshakeTimeout() throws Exception {
        gateway = gatewayOn().listen("handshakeTimeout: 500ms").start(vertx);
        try (Socket slow = new Socket("127.0.0.1", gateway.port)) {
            slow.setSoTimeout(10_000);
            slow.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            assertEquals(-1, slow.getInputStream().read(), "closed without an answer");
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMs < 3000, "closed after " + tookMs + "ms");
        }
    }

    @Test
    void anOversizedHandshakeIs431() throws Exception {
        gateway = gatewayOn().listen("maxHeaderSize: 2k").start(vertx);
        try (RawWebSocket big = RawWebSocket.open(gateway.port, Map.of("X-Padding", "x".repeat(4096)))) {
            assertEquals(431, big.status);
        }
        assertEquals(0, launcher.launches.get());
    }

    @Test
    void anIdleHttpConnectionIsClosedAtTheIdleTimeout() throws Exception {
        gateway = gatewayOn().listen("idleTimeout: 1s").start(vertx);
        try (Socket idle = new Socket("127.0.0.1", gateway.port)) {
            idle.setSoTimeout(10_000);
            idle.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = idle.getInputStream();
            byte[] answer = new byte[4096];
            assertTrue(in.read(answer) > 0, "answered");
            long start = System.nanoTime();
            while (in.read(answer) >= 0) {
                // the rest of the answer, then the close
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMs >= 500 && tookMs < 5000, "closed after " + tookMs + "ms");
        }
    }

    @Test
    void aForeignOriginIs403AndTheOwnAndAllowedOnesPass() throws Exception {
        gateway = gatewayOn()
                .listen("allowedOrigins: [\"https://app.example.com\"]")
                .start(vertx);
        try (RawWebSocket foreign = RawWebSocket.open(gateway.port, Map.of("Origin", "https://evil.example.net"))) {
            RefusalsTest.assertRefusal(foreign, Failure.FORBIDDEN_ORIGIN);
        }
        assertEquals(0, launcher.launches.get(), "nothing launched for a foreign page");
        for (String origin : new String[] {"http://127.0.0.1:" + gateway.port, "https://app.example.com"}) {
            try (RawWebSocket allowed = RawWebSocket.open(gateway.port, Map.of("Origin", origin))) {
                assertEquals(101, allowed.status, origin);
            }
        }
        try (RawWebSocket noBrowser = RawWebSocket.open(gateway.port, Map.of())) {
            assertEquals(101, noBrowser.status, "no Origin: not a browser page");
        }
    }

    @Test
    void pastMaxConnectionsRequestsAre503() throws Exception {
        gateway = gatewayOn().listen("maxConnections: 2").start(vertx);
        try (RawWebSocket first = RawWebSocket.open(gateway.port, Map.of());
                RawWebSocket second = RawWebSocket.open(gateway.port, Map.of());
                RawWebSocket third = RawWebSocket.open(gateway.port, Map.of())) {
            assertEquals(101, first.status);
            assertEquals(101, second.status);
            RefusalsTest.assertRefusal(third, Failure.TOO_MANY_CONNECTIONS);
        }
    }

    @Test
    void connectionsOverTheGatewaysLifeFarBeyondMaxConnectionsAreAllServed() throws Exception {
        gateway = gatewayOn().listen("maxConnections: 40").start(vertx);
        for (int i = 0; i < 120; i++) { // one after another, never two at once
            try (RawWebSocket client = RawWebSocket.open(gateway.port, Map.of())) {
                assertEquals(101, client.status, "connection " + (i + 1) + " of 120: " + client.headers);
                client.send(true, RawWebSocket.CLOSE, RawWebSocket.closePayload(1000, new byte[0]));
                assertEquals(1000, client.awaitClose().closeCode());
            }
        }
        assertTrue(gateway.get("/health/live").contains("UP"));
        Await.until(
                () -> openConnections() <= 1,
                10_000,
                "the count of open connections back to the scrape's own; "
                        + gateway.get("/metrics")
                                .lines()
                                .filter(line -> line.startsWith("berth_connections"))
                                .toList());
    }

    /** {@code berth_connections_open} as a scrape sees it, its own connection included. */
    private double openConnections() {
        return gateway.get("/metrics")
                .lines()
                .filter(line -> line.startsWith("berth_connections_open "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
                .findFirst()
                .orElse(-1);
    }

    @Test
    void oneAddressHoldingItsConnectionsIs429AndOtherAddressesAreStillServed() throws Exception {
        gateway = gatewayOn().listen("maxConnectionsPerClient: 3").start(vertx);
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) { // keep-alive connections that each sent a request and stay open
                Socket socket = new Socket();
                socket.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.5"), 0));
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", gateway.port));
                socket.setSoTimeout(10_000);
                socket.getOutputStream()
                        .write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("HTTP/1.1 200 OK", RawWebSocket.readLine(socket.getInputStream()));
                held.add(socket);
            }
            try (RawWebSocket fourth = from("127.0.0.5", gateway.port, Map.of())) {
                assertEquals("close", fourth.headers.get("connection"));
                RefusalsTest.assertRefusal(fourth, Failure.CLIENT_CONNECTION_LIMIT);
            }
            try (RawWebSocket other = from("127.0.0.6", gateway.port, Map.of())) {
                assertEquals(101, other.status, "another address is served");
            }
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
        assertEquals(1, launcher.launches.get(), "the refused upgrade launched nothing");
        assertTrue(
                gateway.get("/metrics")
                        .contains("berth_connections_refused_total{reason=\"client_connection_limit\"} 1.0"),
                gateway.get("/metrics"));
    }

    @Test
    void aKeepAliveConnectionMustSendItsNextRequestWithinTheHandshakeTimeout() throws Exception {
        gateway = gatewayOn().listen("handshakeTimeout: 500ms").start(vertx);
        try (Socket trickling = new Socket("127.0.0.1", gateway.port)) {
            trickling.setSoTimeout(10_000);
            trickling
                    .getOutputStream()
                    .write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = trickling.getInputStream();
            assertEquals("HTTP/1.1 200 OK", RawWebSocket.readLine(in));
            trickling
                    .getOutputStream()
                    .write("GET /health/live HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            byte[] rest = new byte[4096];
            while (in.read(rest) >= 0) {
                // the rest of the first answer, then the close: the second request never completed
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMs < 5000, "closed " + tookMs + "ms after the half request");
        }
    }

    @Test
    void oneAddressCannotHoldMoreThanItsShareAndOthersAreStillAdmitted() throws Exception {
        gateway = gatewayOn().sessions("perClient: {maxSessions: 2}").start(vertx);
        List<RawWebSocket> open = new ArrayList<>();
        try {
            open.add(from("127.0.0.2", gateway.port, Map.of()));
            open.add(from("127.0.0.2", gateway.port, Map.of()));
            RawWebSocket third = from("127.0.0.2", gateway.port, Map.of());
            open.add(third);
            RefusalsTest.assertRefusal(third, Failure.CLIENT_SESSION_LIMIT);
            RawWebSocket other = from("127.0.0.3", gateway.port, Map.of());
            open.add(other);
            assertEquals(101, other.status, "another address is admitted");
        } finally {
            for (RawWebSocket socket : open) {
                socket.close();
            }
        }
        assertEquals(3, launcher.launches.get(), "the refused one launched nothing");
        assertTrue(gateway.get("/metrics")
                .contains("berth_refusals_total{reason=\"client_session_limit\",route=\"" + gateway.route + "\"} 1.0"));
    }

    @Test
    void oneAddressOpeningSessionsTooFastIs429() throws Exception {
        gateway = gatewayOn().sessions("perClient: {newPerMinute: 3}").start(vertx);
        int refused = 0;
        for (int i = 0; i < 5; i++) {
            try (RawWebSocket client = from("127.0.0.4", gateway.port, Map.of())) {
                refused += client.status == 429 ? 1 : 0;
            }
        }
        assertEquals(2, refused, "a minute's worth (3) at once, then refused");
    }

    @Test
    void theGatewayWideLimitIs503() throws Exception {
        gateway = gatewayOn().sessions("maxSessions: 1").start(vertx);
        try (RawWebSocket first = RawWebSocket.open(gateway.port, Map.of());
                RawWebSocket second = RawWebSocket.open(gateway.port, Map.of())) {
            assertEquals(101, first.status);
            assertEquals(503, second.status);
        }
    }

    @Test
    void aFullLaunchQueueIs503AndCostsNoBackend() throws Exception {
        launcher = new FakeLauncher(vertx, Duration.ofMillis(1500));
        gateway = gatewayOn().sessions("launches: {maxConcurrent: 1, queue: 0}").start(vertx);
        try (Socket launching = new Socket("127.0.0.1", gateway.port)) {
            launching
                    .getOutputStream()
                    .write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            Await.until(() -> launcher.launches.get() == 1, 10_000, "the first one launching");
            try (RawWebSocket queued = RawWebSocket.open(gateway.port, Map.of())) {
                assertEquals(503, queued.status);
            }
            assertEquals(1, launcher.launches.get());
        }
    }

    @Test
    void aValidTokenWhoseSessionEndedGetsANewSession() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        try (RawWebSocket first = RawWebSocket.open(gateway.port, Map.of())) {
            token = first.headers.get("berth-session");
            first.send(true, RawWebSocket.CLOSE, RawWebSocket.closePayload(1000, new byte[0])); // ends the session
            first.awaitClose(); // the session's end was noted before its close was answered: no wait needed
        }
        try (RawWebSocket again = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
            assertEquals(101, again.status);
            assertNotEquals(token, again.headers.get("berth-session"), "a new session, with a new token");
        }
    }

    @Test
    void tlsServesWssAndMarksTheCookieSecure(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        TlsFrontDoor.certificate(dir);
        gateway = gatewayOn()
                .listen("tls: {cert: \"" + cert + "\", key: \"" + key + "\"}")
                .start(vertx);
        WebSocketClient client = vertx.createWebSocketClient(
                new WebSocketClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false));
        try {
            WebSocket socket = client.connect(new WebSocketConnectOptions()
                            .setHost("127.0.0.1")
                            .setPort(gateway.port)
                            .setURI("/ws")
                            .setSsl(true))
                    .await(20, TimeUnit.SECONDS);
            String cookie = socket.headers().get("Set-Cookie");
            assertTrue(cookie.toLowerCase().contains("; secure"), cookie);
            socket.close().await(10, TimeUnit.SECONDS);
        } finally {
            client.close().await(10, TimeUnit.SECONDS);
        }
        try (Socket plain = new Socket("127.0.0.1", gateway.port)) {
            plain.setSoTimeout(5000);
            plain.getOutputStream()
                    .write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = plain.getInputStream().readNBytes(12);
            assertTrue(
                    !new String(answer, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"),
                    "no plain http on a TLS listener");
        }
    }
}
