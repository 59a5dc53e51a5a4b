package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway behind a real front door: nginx terminating TLS on loopback ({@link TlsFrontDoor}),
 * configured as operators configure it, with the gateway trusting it ({@code
 * listen.trustedProxies}). Through it, the address each client connected to nginx from is the one
 * its per-client limits count, and the public https origin is the gateway's own (cookie Secure,
 * the page's websocket accepted). Straight to the gateway from a peer it does not trust, the same
 * headers are the client's own words and change nothing.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BehindTlsProxyTest extends FakeLauncherGatewayTest {

    /** The gateway trusts nginx on 127.0.0.1; clients come from other loopback addresses. */
    private static final String TRUST_THE_FRONT_DOOR = "trustedProxies: [\"127.0.0.1/32\"]";

    private static final String TWO_SESSIONS_PER_CLIENT = "perClient: {maxSessions: 2}";

    /** Held: an unreachable client is closed by a Cleaner. Each is one client address. */
    private final List<WebSocketClient> clients = new ArrayList<>();

    private final List<WebSocket> open = new ArrayList<>();

    /** nginx, stopped after the websockets through it are closed. */
    private TlsFrontDoor nginx;

    @AfterEach
    void closeEveryWebsocketThenTheFrontDoor() throws Exception {
        try {
            for (WebSocket socket : open) {
                socket.close().await(10, TimeUnit.SECONDS);
            }
            for (WebSocketClient client : clients) {
                client.close().await(10, TimeUnit.SECONDS);
            }
        } finally {
            if (nginx != null) {
                nginx.close();
            }
        }
    }

    private TestGateway.Builder behindTheFrontDoor() {
        return gatewayOn().listen(TRUST_THE_FRONT_DOOR).sessions(TWO_SESSIONS_PER_CLIENT);
    }

    @Test
    void throughTlsEachRealClientAddressHasItsOwnLimitTheHttpsOriginIsOwnAndTheCookieIsSecure() throws Exception {
        gateway = behindTheFrontDoor().start(vertx);
        nginx = TlsFrontDoor.start(gateway.port);
        for (int i = 1; i <= 2; i++) {
            WebSocket session = accepted("127.0.0.2", nginx.origin());
            String cookie = session.headers().get("Set-Cookie");
            assertNotNull(cookie, "the 101 sets the session cookie");
            assertTrue(cookie.startsWith("berth_session=" + session.headers().get("Berth-Session") + ";"), cookie);
            assertTrue(
                    cookie.toLowerCase(Locale.ROOT).contains("; secure"),
                    "the public scheme is https, so the cookie is Secure: " + cookie);
        }
        assertRefused(refused("127.0.0.2", nginx.origin()), Failure.CLIENT_SESSION_LIMIT);
        accepted("127.0.0.3", nginx.origin());
        accepted("127.0.0.3", nginx.origin());
        assertEquals(
                List.of("127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"),
                clientsInTheAdminView(),
                "the operator sees each session's real client");
        assertEquals(4, launcher.launches.get(), "the refused one launched nothing");
        assertTrue(
                gateway.get("/metrics")
                        .contains("berth_refusals_total{reason=\"client_session_limit\",route=\"" + gateway.route
                                + "\"} 1.0"),
                "one refusal, counted as the client's session limit");
    }

    @Test
    void throughTlsAPageOnAnotherHostIsRefused403() throws Exception {
        gateway = behindTheFrontDoor().start(vertx);
        nginx = TlsFrontDoor.start(gateway.port);
        assertRefused(refused("127.0.0.2", "https://evil.example"), Failure.FORBIDDEN_ORIGIN);
        // The same port on another scheme is another origin too.
        assertRefused(refused("127.0.0.2", "http://127.0.0.1:" + nginx.port), Failure.FORBIDDEN_ORIGIN);
        accepted("127.0.0.2", nginx.origin());
        assertEquals(1, launcher.launches.get(), "nothing launched for a foreign page");
    }

    @Test
    void forwardedHeadersFromAPeerThatIsNoTrustedProxyChangeNothing() throws Exception {
        gateway = behindTheFrontDoor().start(vertx);
        String ownOrigin = "http://127.0.0.1:" + gateway.port;
        List<RawWebSocket> raw = new ArrayList<>();
        try {
            // Each claims to come from other addresses, through https: both count against 127.0.0.2.
            for (String[] forged : new String[][] {{"10.9.9.9", "10.9.9.8"}, {"10.9.9.7", "10.9.9.6"}}) {
                RawWebSocket session = forging("127.0.0.2", forged[0], forged[1], ownOrigin);
                raw.add(session);
                assertEquals(101, session.status, "its own origin, http, is accepted: " + session.headers);
                String cookie = session.headers.get("set-cookie");
                assertFalse(
                        cookie.toLowerCase(Locale.ROOT).contains("secure"),
                        "a forged X-Forwarded-Proto does not make the cookie Secure: " + cookie);
            }
            RawWebSocket third = forging("127.0.0.2", "10.9.9.5", "10.9.9.4", ownOrigin);
            raw.add(third);
            RefusalsTest.assertRefusal(third, Failure.CLIENT_SESSION_LIMIT);
            assertEquals(List.of("127.0.0.2", "127.0.0.2"), clientsInTheAdminView(), "the peer's own address");
            // Forged https does not make an https page the gateway's own.
            RawWebSocket httpsPage = forging("127.0.0.3", "10.9.9.3", "10.9.9.2", "https://127.0.0.1:" + gateway.port);
            raw.add(httpsPage);
            RefusalsTest.assertRefusal(httpsPage, Failure.FORBIDDEN_ORIGIN);
        } finally {
            for (RawWebSocket socket : raw) {
                socket.close();
            }
        }
        assertEquals(2, launcher.launches.get(), "the refused ones launched nothing");
    }

    /** The client address of every session, as the admin API lists them, sorted. */
    private List<String> clientsInTheAdminView() {
        JsonArray sessions = new JsonObject(gateway.admin("GET", "/sessions").body()).getJsonArray("sessions");
        return sessions.stream()
                .map(session -> ((JsonObject) session).getString("client"))
                .sorted()
                .toList();
    }

    /**
     * A websocket straight to the gateway from {@code from}, with the forwarding headers a proxy
     * sets, forged: other client addresses, https, and this very host.
     */
    private RawWebSocket forging(String from, String forwardedFor, String forwardedForRfc7239, String origin)
            throws Exception {
        return RawWebSocket.open(
                InetAddress.getByName(from),
                gateway.port,
                "/ws",
                Map.of(
                        "Origin",
                        origin,
                        "X-Forwarded-For",
                        forwardedFor,
                        "X-Forwarded-Proto",
                        "https",
                        "X-Forwarded-Host",
                        "127.0.0.1:" + gateway.port,
                        "Forwarded",
                        "for=" + forwardedForRfc7239 + ";proto=https"));
    }

    /** A wss:// websocket to the route through nginx from {@code clientAddress}, opened as a page at {@code origin} opens it. */
    private io.vertx.core.Future<WebSocket> connect(String clientAddress, String origin) {
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setSsl(true)
                .setTrustAll(true)
                .setVerifyHost(false)
                .setLocalAddress(clientAddress));
        clients.add(client);
        return client.connect(new WebSocketConnectOptions()
                        .setSsl(true)
                        .setHost("127.0.0.1")
                        .setPort(nginx.port)
                        .setURI("/ws")
                        .addHeader("Origin", origin))
                .onSuccess(open::add);
    }

    /** The websocket, which must be accepted (101), kept open until the test ends. */
    private WebSocket accepted(String clientAddress, String origin) throws Exception {
        try {
            return connect(clientAddress, origin).await(20, TimeUnit.SECONDS);
        } catch (UpgradeRejectedException refused) {
            throw new AssertionError(
                    "refused " + refused.getStatus() + " (" + refused.getBody() + ") from " + clientAddress + " at "
                            + origin + "; nginx: " + nginx.errorLog(),
                    refused);
        }
    }

    /** How the handshake, which must be refused, was refused. */
    private UpgradeRejectedException refused(String clientAddress, String origin) throws Exception {
        try {
            connect(clientAddress, origin).await(20, TimeUnit.SECONDS);
        } catch (UpgradeRejectedException refusedAsExpected) {
            return refusedAsExpected;
        } catch (RuntimeException other) {
            return assertInstanceOf(UpgradeRejectedException.class, other, "not an HTTP refusal");
        }
        throw new AssertionError("accepted from " + clientAddress + " at " + origin + ": should have been refused");
    }

    /** The refusal as docs/sessions.md gives it, after nginx passed it on: status and {@code tag: public reason}. */
    private static void assertRefused(UpgradeRejectedException refused, Failure failure) {
        assertEquals(failure.httpStatus(), refused.getStatus(), failure.tag() + ": " + refused.getBody());
        assertEquals(
                failure.tag() + ": " + failure.publicReason() + "\n",
                refused.getBody().toString());
    }
}
