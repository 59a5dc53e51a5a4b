package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test of sessions on a real launcher (docker, process, swarm): a subclass names the launcher,
 * each test starts the gateway it needs in {@link #gateway}, and after each test the gateway is
 * stopped and the test fails if any backend outlives it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
abstract class RealLauncherTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    Vertx vertx;
    TestBackends backends;
    TestGateway gateway;

    /** The launcher the tests run on; null for a subclass that brings its own (overriding the two below). */
    private final LauncherKind kind;

    RealLauncherTest(LauncherKind kind) {
        this.kind = kind;
    }

    /** What the test can see of this launcher's backends; made before each test. */
    TestBackends backends(Vertx vertx) {
        return TestBackends.of(kind);
    }

    /** A gateway on this launcher, to configure and start. */
    TestGateway.Builder gatewayOn() {
        return TestGateway.on(kind);
    }

    @BeforeEach
    void createBackendsView(Vertx vertx) {
        this.vertx = vertx;
        this.backends = backends(vertx);
    }

    @AfterEach
    void stopGatewayAndCheckNothingIsLeft() throws Exception {
        int left = 0;
        try {
            if (gateway != null) {
                gateway.close();
            }
        } finally {
            // Whatever happened above, nothing this test made may outlive it.
            if (gateway != null) {
                left = backends.removeAll(gateway.route);
            }
            backends.close();
        }
        assertEquals(0, left, "backends still there after the gateway stopped");
    }

    FrameClient connect(String token) throws Exception {
        return FrameClient.connect(vertx, gateway.port, token);
    }

    String get(String path) {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port + path))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (Exception e) {
            throw new AssertionError("GET " + path + " failed", e);
        }
    }

    static void awaitTrue(BooleanSupplier condition, long withinMs, String what) throws InterruptedException {
        Await.until(condition, withinMs, what);
    }

    /**
     * A route's maxSessions of 1 held by two gateways (ids one and two) together: the second refuses
     * a session while the first holds one, and admits again once its {@code backend} is gone.
     */
    void routeLimitHoldsAcrossTwoGateways(String backend) throws Exception {
        gateway = gatewayOn().maxSessions(1).sessions("gatewayId: one").start(vertx);
        TestGateway second = gatewayOn()
                .sameAs(gateway)
                .port(0)
                .maxSessions(1)
                .sessions("gatewayId: two")
                .start(vertx);
        try (FrameClient onFirst = connect(null)) {
            onFirst.hello();
            awaitTrue(
                    () -> refusedWith503(second.port),
                    10_000,
                    "the second gateway counts the first's " + backend + " against the limit");
            onFirst.socket().close((short) 1000);
            awaitTrue(() -> backends.running(gateway.route) == 0, 20_000, "the first session ended");
            awaitTrue(
                    () -> !refusedWith503(second.port),
                    10_000,
                    "the second gateway admits again once the " + backend + " is gone");
        } finally {
            second.close();
        }
    }

    /**
     * Whether gateway {@code port} refuses a new session with 503 (at capacity); a session it admits
     * is ended again at once.
     */
    boolean refusedWith503(int port) {
        try (FrameClient client = FrameClient.connect(vertx, port, null)) {
            client.hello();
            client.socket().close((short) 1000);
            awaitTrue(() -> backends.running(gateway.route) <= 1, 20_000, "the probe session ended");
            return false;
        } catch (Exception refused) {
            if (refused.getMessage() != null && refused.getMessage().contains("503")) {
                return true;
            }
            throw new AssertionError("refused, but not with 503", refused);
        }
    }
}
