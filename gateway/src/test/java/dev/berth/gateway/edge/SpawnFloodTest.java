package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A spawn flood from one address is held by admission while other clients keep being served:
 * five victim sessions (127.0.0.2 to .6) echo in a closed loop while 127.0.0.9 opens a thousand
 * websocket upgrades a second for three seconds, a thousand times the new sessions its address may
 * open. The flooder is refused with 429 (and every refusal it sees is counted in /metrics), it
 * costs at most perClient.maxSessions plus a minute's worth of launches, every victim's every echo
 * comes back intact, and a new client from another address is admitted during the flood.
 *
 * <p>What the flood costs the victims' round trips is a latency ratio, so it is measured by a
 * benchmark, not asserted here: {@code scripts/bench-flood.sh} (bench/FloodBenchmark).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpawnFloodTest {

    private static final int PER_CLIENT_MAX_SESSIONS = 20;
    private static final int NEW_PER_MINUTE = 60;
    private static final int VICTIMS = 5;
    private static final int FLOOD_PER_SECOND = 1000;
    private static final long FLOOD_MS = 3000;

    private FakeLauncher launcher;
    private TestGateway gateway;

    @BeforeEach
    void start(Vertx vertx) throws Exception {
        launcher = new FakeLauncher(vertx, Duration.ofMillis(20));
        gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                .maxSessions(200) // the route's own limit is not what this test is about
                .sessions("perClient: {maxSessions: " + PER_CLIENT_MAX_SESSIONS + ", newPerMinute: " + NEW_PER_MINUTE
                        + "}, " + "launches: {maxConcurrent: 4, queue: 8}")
                .start(vertx);
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        assertEquals(0, launcher.running(), "backends left running");
    }

    @Test
    void aSpawnFloodFromOneAddressIsRefusedWith429WhileOtherClientsKeepBeingServed() throws Exception {
        try (FloodVictims victims = FloodVictims.open(gateway.port, VICTIMS, 1)) {
            SpawnFlood flood = SpawnFlood.start(new SpawnFlood.Plan(
                    InetAddress.getByName("127.0.0.9"), gateway.port, 3, FLOOD_PER_SECOND, FLOOD_MS, 20_000));
            int newcomerStatus;
            try (RawWebSocket newcomer =
                    RawWebSocket.open(InetAddress.getByName("127.0.0.20"), gateway.port, "/ws", Map.of())) {
                newcomerStatus = newcomer.status;
            }
            FloodVictims.Samples served = victims.echo(100, flood.running());
            flood.join();

            Map<String, Long> refusals = refusalsByReason();
            long refused429 =
                    refusals.getOrDefault("client_session_limit", 0L) + refusals.getOrDefault("client_rate_limit", 0L);
            long refusedAtAll =
                    refusals.values().stream().mapToLong(Long::longValue).sum();
            int flooderLaunches = launcher.launches.get() - VICTIMS - 1;
            String seen = String.format(
                    "%d attempts in %d ms, answers %s, %d left before the answer, %d failed to connect; "
                            + "refusals in /metrics %s; launches for the flooder %d; victims' round trips %d",
                    flood.attempts(),
                    flood.tookMs(),
                    flood.statuses(),
                    flood.abandoned(),
                    flood.connectFailures(),
                    refusals,
                    flooderLaunches,
                    served.rtt().length);
            System.out.println("SpawnFloodTest: " + seen);

            assertTrue(flood.attempts() > 100, "the flood got going: " + seen);
            assertTrue(flood.answered(429) > 0, "the flooder was answered 429: " + seen);
            assertTrue(refused429 > 0, "the 429s are counted by reason: " + seen);
            assertTrue(
                    refusedAtAll >= flood.answered(429) + flood.answered(503),
                    "every refusal the flooder saw is counted in /metrics: " + seen);
            assertTrue(
                    flooderLaunches <= PER_CLIENT_MAX_SESSIONS + NEW_PER_MINUTE,
                    "the flooder cost at most perClient.maxSessions + a minute's worth of new sessions: " + seen);
            assertEquals(101, newcomerStatus, "a new client from another address is admitted during the flood");
            assertTrue(served.rtt().length >= VICTIMS * 100, "every victim was served through the flood: " + seen);
        }
    }

    private Map<String, Long> refusalsByReason() {
        Map<String, Long> byReason = new TreeMap<>();
        Matcher line = Pattern.compile("berth_refusals_total\\{reason=\"([a-z_]+)\",route=\""
                        + Pattern.quote(gateway.route) + "\"} ([0-9.E]+)")
                .matcher(gateway.get("/metrics"));
        while (line.find()) {
            long count = (long) Double.parseDouble(line.group(2));
            if (count > 0) {
                byReason.put(line.group(1), count);
            }
        }
        return byReason;
    }
}
