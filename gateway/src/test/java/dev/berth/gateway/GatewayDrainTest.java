package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A graceful shutdown's first half, as SIGTERM starts it: readiness turns 503 at once and new
 * connections are refused, while attached clients keep their pipes until they leave or the drain
 * deadline comes. (SessionSurvivalTest sends the real signal to a real gateway process.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayDrainTest extends FakeLauncherGatewayTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private TestGateway.Builder gatewayOn(String drainDeadline) {
        return gatewayOn().sessions("drainDeadline: " + drainDeadline);
    }

    @Test
    void aDrainingGatewayIsNotReadyRefusesNewClientsAndKeepsPipingAttachedOnesUntilItsDeadline() throws Exception {
        gateway = gatewayOn("3s").start(vertx); // a deadline the checks below surely fit in, also on a loaded machine
        assertEquals(200, status("/health/ready"));
        try (FrameClient attached = FrameClient.connect(vertx, gateway.port, null)) {
            attached.hello();
            long begun = System.nanoTime();
            Future<Void> drained = gateway.verticle.drain();

            // The drain begins on the gateway's control loop, a hop after the call (red once under a
            // burner when read at once): from then on it is not ready.
            Await.until(() -> statusOrZero("/health/ready") == 503, 10_000, "not ready from the start of the drain");
            assertEquals(200, status("/health/live"), "but alive");
            try (RawWebSocket refused = RawWebSocket.open(gateway.port, Map.of())) {
                assertEquals(503, refused.status, "a new connection is refused");
                assertEquals("5", refused.headers.get("retry-after"), refused.headers.toString());
            }
            for (int i = 0; i < 5; i++) {
                attached.socket().writeTextMessage("during the drain " + i);
                assertEquals(
                        "during the drain " + i,
                        attached.nextDataFrame().textData(),
                        "the attached client is still piped");
            }
            assertFalse(drained.isComplete(), "a client is attached: the drain waits for its deadline");
            drained.await(10, TimeUnit.SECONDS);
            long tookMs = (System.nanoTime() - begun) / 1_000_000;
            assertTrue(tookMs >= 2900 && tookMs < 8000, "over at the deadline: " + tookMs + "ms");
            attached.socket().writeTextMessage("after the deadline");
            assertEquals("after the deadline", attached.nextDataFrame().textData(), "the drain itself ends nothing");
        }
        assertTrue(gateway.get("/metrics")
                .contains("berth_refusals_total{reason=\"draining\",route=\"" + gateway.route + "\"} 1.0"));
    }

    @Test
    void aDrainIsOverAsSoonAsTheLastAttachedClientLeaves() throws Exception {
        gateway = gatewayOn("30s").start(vertx);
        try (FrameClient attached = FrameClient.connect(vertx, gateway.port, null)) {
            attached.hello();
            Future<Void> drained = gateway.verticle.drain();
            Thread.sleep(300);
            assertFalse(drained.isComplete(), "still attached");
            long left = System.nanoTime();
            attached.leave();
            drained.await(5, TimeUnit.SECONDS);
            assertTrue((System.nanoTime() - left) / 1_000_000 < 2000, "over within moments of the client leaving");
        }
        assertEquals(1, launcher.running(), "the session itself is kept, for its client or the next gateway");
    }

    private int statusOrZero(String path) {
        try {
            return status(path);
        } catch (Exception e) {
            return 0;
        }
    }

    private int status(String path) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port + path))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
