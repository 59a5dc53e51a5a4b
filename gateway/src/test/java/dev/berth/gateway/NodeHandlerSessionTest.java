package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.exception.NotFoundException;
import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The session contract ({@link SessionBehaviourTest} and {@link LauncherContractTest}) held against
 * the Node.js example of examples/node-handler, in its own {@code FROM scratch} image through the
 * docker launcher: what a user who writes their own app on a websocket library can count on.
 *
 * <p>The inherited tests whose outcome depends on the app run here: the hello, the echo, the feed
 * and its sequence, the commands, the close code, backpressure, the environment. Those decided by
 * the gateway or the launcher alone (cookies, refusals, metrics, takeovers, grace periods, a killed
 * container) are skipped, each saying so: the shipped handler holds them in {@link
 * SessionBehaviourTest} and {@link DockerSessionTest}, and each costs a container here. Two look at
 * single frames of a fragmented message: {@code ws}, like most websocket libraries, hands an app
 * whole messages, so the Node app echoes a fragmented message as one frame and counts messages, not
 * frames; each has a variant here that holds the same promise for messages. The warm pool's claim,
 * which the inherited tests do not use, has a test of its own.
 */
@Tag("engine")
@CpuCost(seconds = 20)
class NodeHandlerSessionTest extends SessionBehaviourTest {

    /** Built by examples/node-handler/build-image.sh, which the gateway's build runs before its tests. */
    static final String IMAGE = "berth/node-handler:0.1.0";

    @BeforeAll
    static void imageIsBuilt() throws Exception {
        try (DockerTestBackends docker = new DockerTestBackends()) {
            docker.docker.inspectImageCmd(IMAGE).exec();
        } catch (NotFoundException missing) {
            throw new AssertionError(IMAGE + " is missing: build it with examples/node-handler/build-image.sh"
                    + " (the gateway's build runs it when node, npm and an engine are there)");
        }
    }

    private static final String GATEWAY_ONLY =
            "decided by the gateway, whatever the app: held on the shipped handler by SessionBehaviourTest";
    private static final String LAUNCHER_ONLY =
            "decided by the docker launcher, whatever the app: held on the shipped handler by DockerSessionTest";

    @Override
    TestBackends backends(Vertx vertx) {
        return new DockerTestBackends();
    }

    @Override
    TestGateway.Builder gatewayOn() {
        return TestGateway.on(LauncherKind.DOCKER).image(IMAGE);
    }

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void sessionTokenIsLongRandomAndSetAsAStrictCookie() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void pingsAreHopByHopAndAnsweredByExactlyOnePong() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void clientThatClosesWithACodeEndsItsSessionAndItsBackendAtOnce() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void newerConnectionTakesTheSessionOverTheOlderGets4001AndItsEchoEndsNothing() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void tenSimultaneousConnectsWithOneCookieGiveOneBackend() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void forgedTokenIsRefusedWithoutLaunchingAnythingAndTheCookieCleared() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void plainHttpOnTheWebsocketPathIsAnswered426() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void routeAtCapacityRefusesNewSessionsWith503AndRetryAfter() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void metricsCountLaunchesSessionsAndFrames() {}

    @Test
    @Disabled(GATEWAY_ONLY)
    @Override
    void refusalsAreCountedByReason() {}

    @Test
    @Disabled(LAUNCHER_ONLY)
    @Override
    void backendOfAClientThatLeftIsRemovedAfterTheGracePeriod() {}

    @Test
    @Disabled(LAUNCHER_ONLY)
    @Override
    void killedBackendClosesItsClientWith1011() {}

    @Test
    @Disabled("frame by frame: ws reassembles a fragmented message; the variant below holds it for messages")
    @Override
    void everyKindOfFrameRoundTripsUnchanged() {}

    @Test
    void everyKindOfMessageRoundTripsUnchangedAndAFragmentedOneComesBackWhole() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient client = connect(null)) {
            client.hello();
            client.socket().writeTextMessage("héllo, wörld ✓");
            assertEquals("héllo, wörld ✓", client.nextDataFrame().textData());

            byte[] mebibyte = new byte[1 << 20];
            new java.util.Random(42).nextBytes(mebibyte);
            client.socket().writeBinaryMessage(Buffer.buffer(mebibyte));
            WebSocketFrame binary = client.nextDataFrame();
            assertEquals(WebSocketFrameType.BINARY, binary.type());
            assertArrayEquals(mebibyte, binary.binaryData().getBytes());

            client.socket().writeFrame(WebSocketFrame.textFrame("first ", false));
            client.socket().writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer("second "), false));
            client.socket().writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer("third"), true));
            WebSocketFrame text = client.nextDataFrame();
            assertEquals(WebSocketFrameType.TEXT, text.type());
            assertTrue(text.isFinal(), "one frame: the whole message");
            assertEquals("first second third", text.textData());

            client.socket().writeFrame(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[] {1, 2}), false));
            client.socket().writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(new byte[] {3}), true));
            WebSocketFrame bytes = client.nextDataFrame();
            assertEquals(WebSocketFrameType.BINARY, bytes.type());
            assertArrayEquals(new byte[] {1, 2, 3}, bytes.binaryData().getBytes());

            assertEquals(4, client.state().getLong("framesReceived"), "4 messages, two of them fragmented");
        }
    }

    @Test
    @Disabled("counts the backend's frames: ws counts messages; the variant below holds it for messages")
    @Override
    void protocolErrorsGetTheirCloseCodesAndNothingInvalidReachesTheBackend() {}

    @Test
    void aMessageCutAtInvalidUtf8ReachesTheAppAsValidTextAndNothingAfterIt() throws Exception {
        gateway = gatewayOn().env("BERTH_FEED_PER_SECOND", "0").start(vertx);
        String token;
        try (RawWebSocket client = RawWebSocket.open(gateway.port, Map.of())) {
            token = client.headers.get("berth-session");
            client.nextIgnoringPings(); // hello
            client.send(false, RawWebSocket.TEXT, "valid ".getBytes(StandardCharsets.UTF_8));
            client.send(false, RawWebSocket.CONTINUATION, new byte[] {'a', (byte) 0xE2});
            client.send(true, RawWebSocket.CONTINUATION, new byte[] {(byte) 0xC0, (byte) 0x80}); // invalid
            assertEquals(1007, client.awaitClose().closeCode());
        }
        try (FrameClient back = connect(token)) {
            JsonObject state = back.state(); // ws closes with 1007 on invalid UTF-8: the session would be over
            assertEquals(1, state.getLong("framesReceived"), "one message, ended by the gateway where it was cut");
            assertEquals("valid a".length(), state.getLong("bytesReceived"));
        }
    }

    @Test
    void aPooledNodeHandlerServesTheSessionItIsClaimedForAndGreetsARestartedGatewayUnasked() throws Exception {
        gateway = gatewayOn().onShutdown("keep").route("pool: {size: 1}").start(vertx);
        awaitTrue(
                () -> get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                30_000,
                "the pool filled");
        String token;
        String key;
        try (FrameClient client = connect(null)) {
            token = client.sessionToken();
            key = client.hello().getString("session");
            assertTrue(
                    get("/metrics")
                            .contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + gateway.route + "\"} 1.0"),
                    "it came from the pool");
            client.socket().writeTextMessage("before the restart");
            assertEquals("before the restart", client.nextDataFrame().textData());
            gateway.close();
            assertEquals(1012, client.awaitClose(), "told to reconnect");
        }
        // The new gateway tells the claimed container from the pool's silent one by its unasked hello.
        gateway = gatewayOn().sameAs(gateway).route("pool: {size: 1}").start(vertx);
        try (FrameClient back = connect(token)) {
            JsonObject state = back.state();
            assertEquals(key, state.getString("session"), "its own container, adopted as its session");
            assertEquals(1, state.getLong("framesReceived"), "with its state");
        }
    }
}
