package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the gateway believes of a request behind {@code listen.trustedProxies} (docs/security.md),
 * with raw sockets from chosen loopback addresses: from a trusted proxy, the client address of
 * {@code X-Forwarded-For} or {@code Forwarded} drives the per-client limits and the admin view, and
 * the forwarded scheme and host drive the Origin check and the cookie's Secure flag; from any other
 * peer the same headers change nothing. The PROXY protocol likewise, from a trusted load balancer only.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrustedProxiesTest extends FakeLauncherGatewayTest {

    private static final String PROXY = "127.0.0.1";
    private final List<RawWebSocket> open = new ArrayList<>();

    @AfterEach
    void closeClients() throws Exception {
        for (RawWebSocket socket : open) {
            socket.close();
        }
    }

    private RawWebSocket from(String address, Map<String, String> headers) throws Exception {
        RawWebSocket socket = RawWebSocket.open(InetAddress.getByName(address), gateway.port, "/ws", headers);
        open.add(socket);
        return socket;
    }

    private JsonArray sessions() {
        return new JsonObject(gateway.admin("GET", "/sessions").body()).getJsonArray("sessions");
    }

    private static boolean secure(RawWebSocket accepted) {
        return accepted.headers.get("set-cookie").toLowerCase().contains("; secure");
    }

    @Test
    void theClientIsTheRightMostAddressOfXForwardedForThatIsNoTrustedProxy() throws Exception {
        gateway = gatewayOn()
                .listen("trustedProxies: [\"127.0.0.1/32\", \"10.1.0.0/16\"]")
                .sessions("perClient: {maxSessions: 2}")
                .start(vertx);
        // 203.0.113.7 is what the client itself wrote; 198.51.100.2 is the address the outer proxy saw.
        Map<String, String> spoofing = Map.of("X-Forwarded-For", "203.0.113.7, 198.51.100.2, 10.1.2.3");
        assertEquals(101, from(PROXY, spoofing).status);
        assertEquals(101, from(PROXY, spoofing).status);
        RefusalsTest.assertRefusal(from(PROXY, spoofing), Failure.CLIENT_SESSION_LIMIT);
        assertEquals(
                101,
                from(PROXY, Map.of("X-Forwarded-For", "203.0.113.7, 198.51.100.3, 10.1.2.3")).status,
                "another client behind the same proxies has its own allowance");
        assertEquals(101, from(PROXY, Map.of("X-Forwarded-For", "198.51.100.4")).status);
        assertEquals(
                List.of("198.51.100.2", "198.51.100.2", "198.51.100.3", "198.51.100.4"),
                sessions().stream()
                        .map(s -> ((JsonObject) s).getString("client"))
                        .sorted()
                        .toList(),
                "the admin view shows each session's real client");
    }

    @Test
    void aForwardedHeaderNamesTheClientSchemeAndHost() throws Exception {
        gateway = gatewayOn().listen("trustedProxies: [\"127.0.0.1/32\"]").start(vertx);
        RawWebSocket accepted = from(
                PROXY,
                Map.of(
                        "Forwarded", "for=\"[2001:db8::7]:4711\";proto=https;host=app.example.com",
                        "Origin", "https://app.example.com"));
        assertEquals(101, accepted.status, "the public origin, as the proxy forwarded it");
        assertTrue(secure(accepted), "the page is https: " + accepted.headers.get("set-cookie"));
        assertEquals("2001:db8::7", sessions().getJsonObject(0).getString("client"));
        RefusalsTest.assertRefusal(
                from(
                        PROXY,
                        Map.of(
                                "Forwarded",
                                "for=192.0.2.1;proto=https;host=app.example.com",
                                "Origin",
                                "https://evil.example")),
                Failure.FORBIDDEN_ORIGIN);
    }

    @Test
    void aProxyThatForwardsTheHostWithoutItsPortIsHeldToTheHostName() throws Exception {
        gateway = gatewayOn().listen("trustedProxies: [\"127.0.0.1/32\"]").start(vertx);
        Map<String, String> nginx =
                Map.of("X-Forwarded-For", "127.0.0.2", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "127.0.0.1");
        RawWebSocket accepted = from(PROXY, with(nginx, "Origin", "https://127.0.0.1:8443"));
        assertEquals(101, accepted.status, "nginx's $host has no port: scheme and host name are checked");
        assertTrue(secure(accepted));
        RefusalsTest.assertRefusal(
                from(PROXY, with(nginx, "Origin", "http://127.0.0.1:8443")), Failure.FORBIDDEN_ORIGIN);
        RefusalsTest.assertRefusal(
                from(PROXY, with(nginx, "Origin", "https://evil.example:8443")), Failure.FORBIDDEN_ORIGIN);
        Map<String, String> withPort = with(nginx, "X-Forwarded-Port", "8443");
        assertEquals(101, from(PROXY, with(withPort, "Origin", "https://127.0.0.1:8443")).status);
        RefusalsTest.assertRefusal(
                from(PROXY, with(withPort, "Origin", "https://127.0.0.1:9443")),
                Failure.FORBIDDEN_ORIGIN); // with the port known, another port is another origin
    }

    @Test
    void fromAPeerThatIsNoTrustedProxyForwardingHeadersChangeNothing() throws Exception {
        gateway = gatewayOn()
                .listen("trustedProxies: [\"127.0.0.1/32\"]")
                .sessions("perClient: {maxSessions: 2}")
                .start(vertx);
        String self = "http://127.0.0.1:" + gateway.port;
        for (String forged : new String[] {"10.9.9.1", "10.9.9.2"}) {
            RawWebSocket accepted = from(
                    "127.0.0.2",
                    Map.of(
                            "X-Forwarded-For",
                            forged,
                            "Forwarded",
                            "for=" + forged + ";proto=https",
                            "X-Forwarded-Proto",
                            "https",
                            "Origin",
                            self));
            assertEquals(101, accepted.status, "its own origin, plain http");
            assertFalse(secure(accepted), "no proxy terminated TLS for it");
        }
        RefusalsTest.assertRefusal(
                from("127.0.0.2", Map.of("X-Forwarded-For", "10.9.9.3")),
                Failure.CLIENT_SESSION_LIMIT); // every forged address counted against 127.0.0.2
        RefusalsTest.assertRefusal(
                from("127.0.0.2", Map.of("X-Forwarded-Proto", "https", "Origin", "https://127.0.0.1:" + gateway.port)),
                Failure.FORBIDDEN_ORIGIN);
        assertEquals(
                List.of("127.0.0.2", "127.0.0.2"),
                sessions().stream()
                        .map(s -> ((JsonObject) s).getString("client"))
                        .toList());
    }

    @Test
    void aProxyProtocolHeaderNamesTheClientOnlyFromATrustedLoadBalancer() throws Exception {
        gateway = gatewayOn()
                .listen("trustedProxies: [\"127.0.0.1/32\"], proxyProtocol: true")
                .start(vertx);
        byte[] header =
                ("PROXY TCP4 192.0.2.9 127.0.0.1 5555 " + gateway.port + "\r\n").getBytes(StandardCharsets.US_ASCII);
        RawWebSocket balanced = RawWebSocket.open(InetAddress.getByName(PROXY), gateway.port, "/ws", Map.of(), header);
        open.add(balanced);
        assertEquals(101, balanced.status);
        RawWebSocket untrusted =
                RawWebSocket.open(InetAddress.getByName("127.0.0.3"), gateway.port, "/ws", Map.of(), header);
        open.add(untrusted);
        assertEquals(101, untrusted.status);
        assertEquals(
                List.of("127.0.0.3", "192.0.2.9"),
                sessions().stream()
                        .map(s -> ((JsonObject) s).getString("client"))
                        .sorted()
                        .toList());
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        Map<String, String> more = new java.util.LinkedHashMap<>(headers);
        more.put(name, value);
        return more;
    }
}
