package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.LauncherKind;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two gateways on one engine, each with its own {@code sessions.gatewayId} and the same token
 * secret: a client reaches its own session through either of them. Four sessions start on the
 * first, each streaming its handler's feed; two clients come back through the second, which takes
 * each session over (the first gateway's connection gets 4001, as for a handover within one
 * gateway) and finds the container's state intact; then the first gateway is SIGKILLed while the
 * other two stream, and those clients too come back through the second, to their own
 * containers. The route's session limit holds
 * across both: full with the first gateway's sessions, it refuses a new one on the second. Those
 * gateways are child JVMs (GatewayProcess) on the real engine, since one is SIGKILLed; the race
 * between two gateways claiming one session runs on two gateways in this JVM, which start in a
 * fraction of the time and CPU. Routes are unique to the run and removed at the end.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
@Tag("engine")
@Tag("slow")
@CpuCost(seconds = 21)
class TwoGatewaysTest {

    /** Enough to tell each client's container from the others'; each more costs a container start. */
    private static final int SESSIONS = 4;
    /** Sessions that move to the second gateway while the first is still alive. */
    private static final int MOVED_LIVE = 2;
    /** Listing updates a second each session's handler streams to its client. */
    private static final int FEED_PER_SECOND = 10;

    private static final Path LOG_DIR = TestGateway.ROOT.resolve("gateway/target");

    private final String route = TestRoutes.newName();
    private final List<GatewayProcess> gateways = new ArrayList<>();
    private final List<TestGateway> inThisJvm = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private Vertx vertx;
    private Path dir;
    TestBackends backends;

    @BeforeEach
    void createBackendsView() throws Exception {
        vertx = Vertx.vertx();
        dir = Files.createTempDirectory("berth-two-gateways-");
        backends = TestBackends.of(launcher());
    }

    LauncherKind launcher() {
        return LauncherKind.DOCKER;
    }

    /** The gateway holding each running backend of {@code route}: a container's name ends with it. */
    List<String> holders(String route) {
        return ((DockerTestBackends) backends)
                .containers(route, null, false).stream()
                        .map(container ->
                                container.getNames()[0].substring(container.getNames()[0].lastIndexOf('.') + 1))
                        .toList();
    }

    /** One client's view of its session. */
    private record Visit(String token, String key, String hostname, int sent) {}

    @Test
    void clientsReachTheirOwnSessionThroughEitherGatewayAndSurviveOneBeingKilled() throws Exception {
        GatewayProcess first = start("gw-one");
        GatewayProcess second = start("gw-two");
        List<FrameClient> onFirst = new ArrayList<>();
        List<Visit> visits = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            FrameClient client = FrameClient.connect(vertx, first.port, null);
            JsonObject hello = client.hello();
            for (int n = 0; n <= i; n++) {
                client.socket().writeTextMessage("session " + i + " frame " + n);
                assertEquals(
                        "session " + i + " frame " + n, client.nextDataFrame().textData());
            }
            onFirst.add(client);
            visits.add(
                    new Visit(client.sessionToken(), hello.getString("session"), hello.getString("hostname"), i + 1));
        }

        // Admission holds across both: the route's limit is full with the first gateway's sessions,
        // and the second, which holds none yet, counts them on the engine (every second).
        Await.until(
                () -> {
                    try {
                        return FrameClient.refusal(vertx, second.port)
                                .getMessage()
                                .contains("503");
                    } catch (AssertionError accepted) {
                        return false; // it has not counted the first gateway's backends yet; that one session ends with
                        // its client
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                },
                20_000,
                "the second gateway refuses a session past the limit");

        // Half come back through the second gateway while the first still holds their sessions.
        List<FrameClient> onSecond = new ArrayList<>();
        for (int i = 0; i < MOVED_LIVE; i++) {
            onSecond.add(comeBack(vertx, second, visits.get(i), "taken over from a live gateway"));
            assertEquals(
                    4001, onFirst.get(i).awaitClose(), "the first gateway's client of session " + i + " is replaced");
            assertEquals(
                    Failure.MOVED_AWAY.publicReason(),
                    onFirst.get(i).closeReason(),
                    "by a client of the other gateway");
        }

        // The first gateway dies with the other sessions attached and streaming their feed.
        for (int i = MOVED_LIVE; i < SESSIONS; i++) {
            List<Long> streaming = onFirst.get(i).listingSeqs(2);
            assertEquals(streaming.get(0) + 1, streaming.get(1), "session " + i + " streams before the kill");
        }
        first.kill();
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS), "the SIGKILLed gateway is gone");
        for (int i = MOVED_LIVE; i < SESSIONS; i++) {
            assertEquals(1006, onFirst.get(i).awaitClose(), "session " + i + ": dropped with its gateway");
            onSecond.add(comeBack(vertx, second, visits.get(i), "taken over from a dead gateway"));
        }
        assertEquals(SESSIONS, backends.running(route), "one backend per session, none launched again");

        for (FrameClient client : onSecond) {
            client.close(); // 1000: the session ends, its holder (the second gateway) removes the container
        }
        Await.until(() -> backends.running(route) == 0, 30_000, "the second gateway ended every session it took over");
    }

    @Test
    void aSessionClaimedThroughBothGatewaysAtOnceIsPipedByOneAndTheOtherClientIsReplaced() throws Exception {
        TestGateway first = inThisJvm(TestGateway.on(launcher()).sessions("gatewayId: gw-one"));
        TestGateway second =
                inThisJvm(TestGateway.on(launcher()).sameAs(first).port(0).sessions("gatewayId: gw-two"));
        String token;
        try (FrameClient opener = FrameClient.connect(vertx, first.port, null)) {
            opener.hello();
            token = opener.sessionToken();
            opener.leave(); // detached on the first gateway
        }
        for (int round = 0; round < 3; round++) {
            var throughFirst =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> connect(vertx, first.port, token));
            var throughSecond =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> connect(vertx, second.port, token));
            List<FrameClient> both =
                    List.of(throughFirst.get(60, TimeUnit.SECONDS), throughSecond.get(60, TimeUnit.SECONDS));
            // The take-overs settle: the later one wins, the other client is replaced.
            Await.until(
                    () -> both.stream()
                                    .filter(client -> client.socket().isClosed())
                                    .count()
                            >= 1,
                    20_000,
                    "round " + round + ": one of the two clients is replaced");
            List<FrameClient> open =
                    both.stream().filter(client -> !client.socket().isClosed()).toList();
            assertEquals(1, open.size(), "round " + round + ": exactly one client is piped to the session");
            FrameClient replaced = both.get(open.get(0) == both.get(0) ? 1 : 0);
            assertEquals(4001, replaced.awaitClose(), "round " + round + ": the other one was replaced");
            String holder = open.get(0) == both.get(0) ? "gw-one" : "gw-two";
            List<String> holders = holders(first.route);
            assertEquals(
                    List.of(holder), holders, "one backend for the session, held by the gateway its open client is on");
            open.get(0).socket().writeTextMessage("round " + round);
            String echo;
            do { // the holder's gateway, if it dialled the container anew, passed on its hello first
                echo = open.get(0).nextDataFrame().textData();
            } while (echo.startsWith("{\"type\":\"hello\""));
            assertEquals("round " + round, echo, "round " + round + ": the open client is piped");
            open.get(0).leave();
        }
    }

    private static FrameClient connect(Vertx vertx, int port, String token) {
        try {
            return FrameClient.connect(vertx, port, token);
        } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
        }
    }

    @AfterEach
    void stopAndRemoveEverything() throws Exception {
        for (TestGateway gateway : inThisJvm) {
            gateway.close();
            backends.removeAll(gateway.route);
        }
        for (GatewayProcess run : gateways) {
            if (run.process.isAlive()) {
                run.kill();
                run.process.waitFor(30, TimeUnit.SECONDS);
            }
        }
        if (backends != null) {
            backends.removeAll(route);
            backends.close();
        }
        for (Path file : files) {
            Files.deleteIfExists(file);
        }
        if (dir != null) {
            Files.deleteIfExists(dir);
        }
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    /**
     * The client of {@code visit} reconnects through {@code gateway} with its cookie: the gateway
     * dials the same container anew (the handler greets connection 2, with the same session and
     * hostname) and the frames sent before are counted there.
     */
    private static FrameClient comeBack(Vertx vertx, GatewayProcess gateway, Visit visit, String how) throws Exception {
        FrameClient client = FrameClient.connect(vertx, gateway.port, visit.token());
        JsonObject hello = client.hello();
        assertEquals(visit.key(), hello.getString("session"), how);
        assertEquals(visit.hostname(), hello.getString("hostname"), how + ": the same container");
        assertEquals(2, hello.getInteger("connection"), how + ": a second gateway connection to it");
        JsonObject state = client.state();
        assertEquals(
                visit.sent(), state.getLong("framesReceived"), how + ": its state kept, every frame once: " + state);
        return client;
    }

    private TestGateway inThisJvm(TestGateway.Builder gateway) throws Exception {
        TestGateway started = gateway.start(vertx);
        inThisJvm.add(started);
        return started;
    }

    /** A gateway of the run: its own id and admin token file; the route, engine and token secret shared. */
    private GatewayProcess start(String gatewayId) throws Exception {
        Path config = dir.resolve(gatewayId + ".yaml");
        Files.writeString(config, """
        listen: {host: 127.0.0.1, port: 0}
        admin: {port: 0, tokenFile: "%s", readOnlyTokenFile: "%s"}
        launcher: %s
        sessions: {onShutdown: keep, gatewayId: %s, tokenSecretFile: "%s", drainDeadline: 1s}
        routes:
          - name: %s
            path: /ws
            docker: {image: "%s"}
            env: {BERTH_FEED_PER_SECOND: "%d"}
            maxSessions: %d
            timeouts: {grace: 60s, start: 30s, ready: 30s} # a loaded test machine
        """.formatted(
                        dir.resolve(gatewayId + ".admin.key"),
                        dir.resolve(gatewayId + ".admin-read.key"),
                        launcher().name().toLowerCase(java.util.Locale.ROOT),
                        gatewayId,
                        dir.resolve("token.key"),
                        route,
                        TestGateway.IMAGE,
                        FEED_PER_SECOND,
                        SESSIONS));
        files.add(config);
        files.add(dir.resolve(gatewayId + ".admin.key"));
        files.add(dir.resolve(gatewayId + ".admin-read.key"));
        files.add(dir.resolve("token.key"));
        GatewayProcess run =
                GatewayProcess.startGateway(config, 0, LOG_DIR.resolve("two-gateways-" + gatewayId + ".log"));
        gateways.add(run);
        return run;
    }
}
