package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.InJvmLauncher;
import io.vertx.core.Future;
import io.vertx.core.http.UpgradeRejectedException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every refusal before the handshake a client can meet, as docs/sessions.md lists it: its status,
 * its tag first in the body, and Retry-After exactly when a retry later can succeed. Refusals that
 * another test class proves already are named in its comment.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RefusalsTest extends FakeLauncherGatewayTest {

    /** The refusal of a plain upgrade from {@code from}, checked against its failure. */
    private RawWebSocket refused(String from, Failure failure) throws Exception {
        RawWebSocket refusal = RawWebSocket.open(InetAddress.getByName(from), gateway.port, "/ws", Map.of());
        assertRefusal(refusal, failure);
        return refusal;
    }

    /** The refusal's status, Retry-After and body ({@code tag: public reason}), as docs/sessions.md gives them. */
    static void assertRefusal(RawWebSocket refusal, Failure failure) throws IOException {
        assertEquals(failure.httpStatus(), refusal.status, failure.tag());
        assertEquals(
                failure.temporary() ? "5" : null, refusal.headers.get("retry-after"), failure.tag() + "'s Retry-After");
        assertEquals(failure.tag() + ": " + failure.publicReason() + "\n", refusal.body());
        if (refusal.status == 401) {
            assertTrue(
                    refusal.headers.getOrDefault("www-authenticate", "").startsWith("Bearer realm=\"berth\""),
                    "a 401 carries its challenge (RFC 9110): " + refusal.headers);
        }
    }

    private static void assertBody(UpgradeRejectedException rejected, Failure failure) {
        assertEquals(failure.httpStatus(), rejected.getStatus(), failure.tag());
        assertEquals(
                failure.tag() + ": " + failure.publicReason() + "\n",
                rejected.getBody().toString());
        assertEquals(
                failure.temporary() ? "5" : null,
                rejected.getHeaders().get("Retry-After"),
                failure.tag() + "'s Retry-After");
    }

    @Test
    void aClientOpeningSessionsTooFastIs429WithRetryAfter() throws Exception {
        gateway = gatewayOn().sessions("perClient: {newPerMinute: 1}").start(vertx);
        try (RawWebSocket first =
                RawWebSocket.open(InetAddress.getByName("127.0.0.12"), gateway.port, "/ws", Map.of())) {
            assertEquals(101, first.status);
            refused("127.0.0.12", Failure.CLIENT_RATE_LIMIT).close();
        }
    }

    @Test
    void aFullGatewayIs503GatewayFullWithRetryAfter() throws Exception {
        gateway = gatewayOn().sessions("maxSessions: 1").start(vertx);
        try (FrameClient first = FrameClient.connect(vertx, gateway.port, null)) {
            first.hello();
            assertBody(
                    assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, gateway.port)),
                    Failure.GATEWAY_FULL);
        }
    }

    @Test
    void aFullLaunchQueueIs503LaunchQueueFullWithRetryAfter() throws Exception {
        launcher = new dev.berth.gateway.launcher.FakeLauncher(vertx, Duration.ofSeconds(3));
        gateway = gatewayOn().sessions("launches: {maxConcurrent: 1, queue: 0}").start(vertx);
        try (Socket launching = upgradeWithoutWaiting("127.0.0.1")) {
            Await.until(() -> launcher.launches.get() == 1, 10_000, "the first one launching");
            assertBody(
                    assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, gateway.port)),
                    Failure.LAUNCH_QUEUE_FULL);
        }
    }

    @Test
    void aClientWithItsMaximumOfSessionsStartingIs429ClientStartLimitWhileOthersStillStart() throws Exception {
        launcher = new dev.berth.gateway.launcher.FakeLauncher(vertx, Duration.ofMillis(1500));
        gateway = gatewayOn().sessions("perClient: {maxStarting: 2}").start(vertx);
        try (Socket first = upgradeWithoutWaiting("127.0.0.13");
                Socket second = upgradeWithoutWaiting("127.0.0.13")) {
            Await.until(() -> launcher.launches.get() == 2, 10_000, "two of its sessions launching");
            refused("127.0.0.13", Failure.CLIENT_START_LIMIT).close();
            try (RawWebSocket other =
                    RawWebSocket.open(InetAddress.getByName("127.0.0.14"), gateway.port, "/ws", Map.of())) {
                assertEquals(101, other.status, "another address starts its session meanwhile");
            }
            assertTrue(
                    RawWebSocket.readLine(first.getInputStream()).startsWith("HTTP/1.1 101"), "the first one started");
            try (RawWebSocket third =
                    RawWebSocket.open(InetAddress.getByName("127.0.0.13"), gateway.port, "/ws", Map.of())) {
                assertEquals(101, third.status, "once its sessions started, the address may start more");
            }
        }
    }

    @Test
    void pausedAdmissionsAre503AdmissionsPausedWithRetryAfter() throws Exception {
        gateway = gatewayOn().start(vertx);
        assertEquals(200, gateway.admin("POST", "/admissions/pause").statusCode());
        assertBody(
                assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, gateway.port)),
                Failure.ADMISSIONS_PAUSED);
    }

    @Test
    void aBackendThatRefusesTheGatewaysWebsocketIs502Unreachable() throws Exception {
        launcher.refusingWebsockets();
        gateway = gatewayOn().start(vertx);
        assertBody(
                assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, gateway.port)),
                Failure.UNREACHABLE);
        Await.until(() -> launcher.running() == 0, 10_000, "its backend is stopped");
    }

    @Test
    void aSessionTakenOverThroughAnotherGatewayWhileItsClientWaitsIs503MovedAway() throws Exception {
        launcher.slowHandshakes(Duration.ofSeconds(3)); // the session is still dialling its backend
        // One loop: the waiting client's claim is released on the loop that lets the session go, at
        // once (on two loops that happened once in a few runs, and the let-go backend was stopped).
        gateway = gatewayOn().listen("eventLoops: 1").start(vertx);
        var refusal = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return FrameClient.refusal(vertx, gateway.port);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        Await.until(() -> launcher.launches.get() == 1 && !launcher.backends().isEmpty(), 10_000, "launched");
        String key = launcher.backends().get(0).sessionKey;
        launcher.moveAway(key, "gw-other");
        assertBody(
                assertInstanceOf(UpgradeRejectedException.class, refusal.get(20, TimeUnit.SECONDS)),
                Failure.MOVED_AWAY);
        Await.until(() -> gateway.get("/health").contains("\"sessions\":0"), 10_000, "let go, not ended");
        assertEquals(1, launcher.running(), "the backend runs on for the gateway that took it over");
        launcher.stopElsewhere(key);
    }

    @Test
    void aBackendNotRunningWithinTheStartTimeoutIs502StartTimeoutAndIsStoppedWhenItStarts() throws Exception {
        InJvmLauncher slow = new InJvmLauncher(vertx).slowStart(Duration.ofMillis(1500));
        try (TestGateway onSlow = TestGateway.with((v, config, watch) -> Future.succeededFuture(slow))
                .startTimeout("200ms")
                .start(vertx)) {
            assertBody(
                    assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, onSlow.port)),
                    Failure.START_TIMEOUT);
            Await.until(
                    () -> slow.running(onSlow.route, null).isEmpty(),
                    10_000,
                    "the late handler was stopped, not leaked");
        }
    }

    @Test
    void aBackendThatExitsBeforeItIsReadyIs502ExitedEarly() throws Exception {
        InJvmLauncher exiting = new InJvmLauncher(vertx).exitingBeforeReady();
        try (TestGateway onExiting = TestGateway.with((v, config, watch) -> Future.succeededFuture(exiting))
                .start(vertx)) {
            assertBody(
                    assertInstanceOf(UpgradeRejectedException.class, FrameClient.refusal(vertx, onExiting.port)),
                    Failure.EXITED_EARLY);
        }
    }

    private Socket upgradeWithoutWaiting(String from) throws Exception {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.port, InetAddress.getByName(from), 0);
        OutputStream out = socket.getOutputStream();
        out.write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return socket;
    }
}
