package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.InJvmLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sessions of signed-in users ({@code auth}, docs/security.md), on the shipped handler run inside
 * the test JVM: the user comes from a sign-in proxy's header only through a trusted proxy (or from a
 * verified JWT), a session is bound to its user whichever cookie is presented, its handler is told
 * who it serves (launched or claimed from the pool), {@code sessions.perUser} holds across addresses,
 * a route can give each user one session, and the operator finds and ends a user's sessions. No user
 * name ever reaches the metrics.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SignInTest {

    private static final String PROXY = "127.0.0.1";
    private static final String HEADERS = "from: header, userHeader: X-Forwarded-User, emailHeader: X-Forwarded-Email";

    private Vertx vertx;
    private InJvmLauncher launcher;
    private TestGateway gateway;
    private final List<RawWebSocket> open = new ArrayList<>();

    @BeforeEach
    void startLauncher(Vertx vertx) {
        this.vertx = vertx;
        this.launcher = new InJvmLauncher(vertx);
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (RawWebSocket socket : open) {
            socket.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        Await.until(() -> launcher.running(gateway.route, null).isEmpty(), 10_000, "every handler stopped");
    }

    private TestGateway.Builder gatewayOn() {
        return TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .env("BERTH_FEED_PER_SECOND", "0")
                .listen("trustedProxies: [\"127.0.0.1/32\"]");
    }

    /** A connection through the sign-in proxy at 127.0.0.1, as {@code user} at {@code client}. */
    private RawWebSocket as(String user, String client, Map<String, String> more) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>(more);
        headers.put("X-Forwarded-For", client);
        if (user != null) {
            headers.put("X-Forwarded-User", user);
            headers.put("X-Forwarded-Email", user + "@example.com");
        }
        return from(PROXY, headers);
    }

    private RawWebSocket from(String address, Map<String, String> headers) throws Exception {
        RawWebSocket socket = RawWebSocket.open(InetAddress.getByName(address), gateway.port, "/ws", headers);
        open.add(socket);
        return socket;
    }

    private static JsonObject hello(RawWebSocket socket) throws Exception {
        assertEquals(101, socket.status);
        JsonObject hello = new JsonObject(socket.nextIgnoringPings().text());
        assertEquals("hello", hello.getString("type"));
        return hello;
    }

    /** The session a client that came back is attached to (no hello then: the backend's connection is the same). */
    private static String sessionOf(RawWebSocket socket) throws Exception {
        assertEquals(101, socket.status);
        socket.sendText("{\"cmd\":\"state\"}");
        for (int frames = 0; frames < 10; frames++) {
            JsonObject reply = new JsonObject(socket.nextIgnoringPings().text());
            if ("state".equals(reply.getString("type"))) {
                return reply.getString("session");
            }
        }
        throw new AssertionError("no state reply");
    }

    private static String cookie(RawWebSocket accepted) {
        String setCookie = accepted.headers.get("set-cookie");
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private JsonArray sessions(String query) {
        return new JsonObject(gateway.admin("GET", "/sessions" + query).body()).getJsonArray("sessions");
    }

    @Test
    void theHandlerIsToldItsUserAndTheOperatorSeesItButTheMetricsNever() throws Exception {
        gateway = gatewayOn().auth(HEADERS).start(vertx);
        JsonObject hello = hello(as("alice", "198.51.100.1", Map.of()));
        assertEquals("alice", hello.getString("user"), "BERTH_USER in the handler's environment");
        JsonObject session = sessions("").getJsonObject(0);
        assertEquals("alice", session.getString("user"));
        assertEquals("198.51.100.1", session.getString("client"));
        assertFalse(gateway.get("/metrics").contains("alice"), "user names never label a metric");
    }

    @Test
    void withAuthAnUpgradeWithoutAUserIs401AndAUserHeaderFromAnUntrustedPeerIsIgnored() throws Exception {
        gateway = gatewayOn().auth(HEADERS).start(vertx);
        RefusalsTest.assertRefusal(as(null, "198.51.100.1", Map.of()), Failure.UNAUTHENTICATED);
        RefusalsTest.assertRefusal(
                from("127.0.0.2", Map.of("X-Forwarded-User", "alice")),
                Failure.UNAUTHENTICATED); // past the sign-in proxy: anyone could write the header
        assertEquals(
                400,
                as("al\u0001ice", "198.51.100.1", Map.of()).status,
                "a control character in a header: the HTTP decoder refuses the request");
        assertTrue(launcher.running(gateway.route, null).isEmpty(), "nothing launched for anyone unknown");
    }

    @Test
    void anotherUserPresentingTheCookieGetsASessionOfTheirOwnAndTheFirstIsUntouched() throws Exception {
        gateway = gatewayOn().auth(HEADERS).start(vertx);
        RawWebSocket alice = as("alice", "198.51.100.1", Map.of());
        String aliceSession = hello(alice).getString("session");
        RawWebSocket bob = as("bob", "198.51.100.2", Map.of("Cookie", cookie(alice)));
        JsonObject bobHello = hello(bob);
        assertNotEquals(
                aliceSession, bobHello.getString("session"), "alice's cookie did not take bob to her container");
        assertEquals("bob", bobHello.getString("user"));
        assertNotEquals(cookie(alice), cookie(bob), "bob got a token of his own");
        assertEquals(aliceSession, sessionOf(alice), "alice is still attached to her own session");
        RawWebSocket aliceAgain = as("alice", "198.51.100.9", Map.of("Cookie", cookie(alice)));
        assertEquals(aliceSession, sessionOf(aliceAgain), "her own cookie takes her back, from anywhere");
        assertEquals(4001, alice.awaitClose().closeCode(), "her newer connection took over");
    }

    @Test
    void perUserMaxSessionsHoldsWhateverAddressTheUserComesFrom() throws Exception {
        gateway =
                gatewayOn().auth(HEADERS).sessions("perUser: {maxSessions: 2}").start(vertx);
        hello(as("alice", "198.51.100.1", Map.of()));
        hello(as("alice", "198.51.100.2", Map.of()));
        RefusalsTest.assertRefusal(as("alice", "198.51.100.3", Map.of()), Failure.USER_SESSION_LIMIT);
        hello(as("bob", "198.51.100.3", Map.of()));
    }

    @Test
    void onARouteForUsersASecondBrowserTakesTheUsersSessionOver() throws Exception {
        gateway = gatewayOn().auth(HEADERS).route("sessionFor: user").start(vertx);
        RawWebSocket laptop = as("alice", "198.51.100.1", Map.of());
        String session = hello(laptop).getString("session");
        RawWebSocket phone = as("alice", "198.51.100.2", Map.of());
        assertEquals(session, sessionOf(phone), "one container per user");
        assertEquals(4001, laptop.awaitClose().closeCode(), "the older browser is told of the handover");
        assertEquals(cookie(laptop), cookie(phone), "both hold the session's one token");
        RawWebSocket bob = as("bob", "198.51.100.3", Map.of());
        assertNotEquals(session, hello(bob).getString("session"));
    }

    @Test
    void aPooledHandlerLearnsItsUserFromTheClaim() throws Exception {
        gateway = gatewayOn().auth(HEADERS).route("pool: {size: 1}").start(vertx);
        Await.until(
                () -> gateway.get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                20_000,
                "the pool filled");
        assertEquals("carol", hello(as("carol", "198.51.100.1", Map.of())).getString("user"));
        assertTrue(
                gateway.get("/metrics")
                        .contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + gateway.route + "\"} 1.0"),
                "it came from the pool");
    }

    @Test
    void theOperatorListsAndEndsOneUsersSessions() throws Exception {
        gateway = gatewayOn().auth(HEADERS).start(vertx);
        RawWebSocket first = as("alice", "198.51.100.1", Map.of());
        RawWebSocket second = as("alice", "198.51.100.2", Map.of());
        RawWebSocket bob = as("bob", "198.51.100.3", Map.of());
        hello(first);
        hello(second);
        String bobSession = hello(bob).getString("session");
        assertEquals(2, sessions("?user=alice").size());
        assertEquals(
                "{\"ended\":2}", gateway.admin("DELETE", "/sessions?user=alice").body());
        assertEquals(4003, first.awaitClose().closeCode());
        assertEquals(4003, second.awaitClose().closeCode());
        Await.until(() -> sessions("").size() == 1, 10_000, "only bob's session is left");
        assertEquals(bobSession, sessions("").getJsonObject(0).getString("key"));
    }

    @Test
    void aVerifiedJwtNamesTheUserAndAnyOtherTokenIs401(Vertx vertx) throws Exception {
        KeyPair keys = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        KeyPair stranger = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        Path jwks = Files.createTempFile("berth-jwks-", ".json");
        try {
            Files.writeString(jwks, jwksOf(keys).encode());
            gateway = gatewayOn()
                    .auth("from: jwt, jwt: {jwks: \"" + jwks + "\", issuer: https://sso.example, audience: berth,"
                            + " emailClaim: email}")
                    .start(vertx);
            long hourAhead = System.currentTimeMillis() / 1000 + 3600;
            JsonObject claims = new JsonObject()
                    .put("sub", "dave")
                    .put("email", "dave@example.com")
                    .put("iss", "https://sso.example")
                    .put("aud", "berth")
                    .put("exp", hourAhead);
            assertEquals(
                    "dave",
                    hello(from("127.0.0.2", Map.of("Authorization", "Bearer " + jwt(keys, "RS256", claims))))
                            .getString("user"),
                    "a token verifies whoever carries it: no proxy needed");
            for (String bad : new String[] {
                jwt(stranger, "RS256", claims),
                jwt(keys, "RS256", claims.copy().put("exp", hourAhead - 7200)),
                jwt(keys, "RS256", claims.copy().put("aud", "another-app")),
                jwt(keys, "none", claims)
            }) {
                RefusalsTest.assertRefusal(
                        from("127.0.0.2", Map.of("Authorization", "Bearer " + bad)), Failure.UNAUTHENTICATED);
            }
            RefusalsTest.assertRefusal(from("127.0.0.2", Map.of()), Failure.UNAUTHENTICATED);
        } finally {
            Files.deleteIfExists(jwks);
        }
    }

    @Test
    void keysFetchedFromAJwksUrlVerifyTokensToo(Vertx vertx) throws Exception {
        KeyPair keys = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        HttpServer issuer = vertx.createHttpServer()
                .requestHandler(request -> request.response()
                        .putHeader("Content-Type", "application/json")
                        .end(jwksOf(keys).encode()))
                .listen(0, "127.0.0.1")
                .await(10, TimeUnit.SECONDS);
        try {
            gateway = gatewayOn()
                    .auth("from: jwt, jwt: {jwks: \"http://127.0.0.1:" + issuer.actualPort() + "/jwks.json\"}")
                    .start(vertx);
            String token = jwt(keys, "RS256", new JsonObject().put("sub", "erin"));
            assertEquals(
                    "erin",
                    hello(from("127.0.0.2", Map.of("Authorization", "Bearer " + token)))
                            .getString("user"));
        } finally {
            issuer.close().await(10, TimeUnit.SECONDS);
        }
    }

    /** A JWKS holding the public half of {@code keys}, as an identity provider publishes it. */
    private static JsonObject jwksOf(KeyPair keys) {
        RSAPublicKey publicKey = (RSAPublicKey) keys.getPublic();
        return new JsonObject()
                .put(
                        "keys",
                        new JsonArray()
                                .add(new JsonObject()
                                        .put("kty", "RSA")
                                        .put("kid", "k1")
                                        .put("alg", "RS256")
                                        .put("use", "sig")
                                        .put("n", base64(publicKey.getModulus()))
                                        .put("e", base64(publicKey.getPublicExponent()))));
    }

    private static String jwt(KeyPair keys, String algorithm, JsonObject claims) throws Exception {
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String signed = url.encodeToString(new JsonObject()
                        .put("alg", algorithm)
                        .put("typ", "JWT")
                        .put("kid", "k1")
                        .encode()
                        .getBytes(StandardCharsets.UTF_8))
                + "." + url.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
        if (algorithm.equals("none")) {
            return signed + ".";
        }
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(keys.getPrivate());
        signature.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + url.encodeToString(signature.sign());
    }

    private static String base64(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes[0] == 0) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
