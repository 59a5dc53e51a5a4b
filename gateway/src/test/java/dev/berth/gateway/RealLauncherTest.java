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
}
