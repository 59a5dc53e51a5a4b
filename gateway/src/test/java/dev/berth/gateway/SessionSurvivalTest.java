package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sessions outlive their gateway. Four streaming sessions survive a SIGKILLed gateway and then a
 * SIGTERMed one ({@code sessions.onShutdown: keep}): each gateway started afterwards on the same
 * port re-adopts every container, and every client that comes back with its cookie finds its own
 * container, with the frames it sent before counted there. The gateways are child JVMs (GatewayProcess),
 * on the real Docker engine; the route name is unique to the run so that cleanup can
 * remove exactly what the run made, even when it fails.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
@Tag("engine")
@Tag("slow")
@CpuCost(seconds = 21)
class SessionSurvivalTest {

    /** Enough to tell each client's container from the others'; each more costs a container start. */
    private static final int SESSIONS = 4;
    /** Sessions opened at a time: launching containers is CPU-bound and the machine may have 2 cores. */
    private static final int OPEN_AT_ONCE = 4;
    /** Clients reconnecting at a time: re-attaching is cheap, but bounded all the same. */
    private static final int RECONNECT_AT_ONCE = 10;

    private static final int FEED_PER_SECOND = 20;
    /** sessions.drainDeadline of its gateways. */
    private static final Duration DRAIN = Duration.ofSeconds(3);

    private static final Duration ADOPT_TIMEOUT = Duration.ofSeconds(60);
    private static final Path LOG_DIR = TestGateway.ROOT.resolve("gateway/target");

    private final String route = TestRoutes.newName();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<GatewayProcess> gateways = new ArrayList<>();
    private final List<Visitor> visitors = Collections.synchronizedList(new ArrayList<>());
    private Vertx vertx;
    private Path config;

    @Test
    void sessionsSurviveAKilledAndThenAStoppedGatewayWithTheirState() throws Exception {
        vertx = Vertx.vertx();
        try (DockerTestBackends docker = new DockerTestBackends()) {
            try {
                config = writeConfig();

                GatewayProcess first = startGateway(0);
                int port = first.port;
                openSessions(port);
                assertAllContainersRunning(docker, "with the first gateway");

                // SIGKILL: the gateway gets no chance to close anything; the kernel drops its sockets.
                first.kill();
                assertTrue(first.process.waitFor(30, TimeUnit.SECONDS), "the SIGKILLed gateway is gone");
                assertEquals(137, first.process.exitValue(), "128 + SIGKILL");
                for (Visitor v : visitors) {
                    v.lastSeq = Math.max(v.lastSeq, max(v.client.listingSeqsUntilClosed()));
                    short code = v.client.awaitClose();
                    assertEquals(1006, code, v + ": dropped without a close frame (abnormal closure)");
                }
                assertAllContainersRunning(docker, "after the gateway was SIGKILLed");

                GatewayProcess second = startGateway(port);
                awaitAdoption(second, "after SIGKILL");
                reconnectAll(port, 2);

                // An upgrade while the sessions stream: the route's version changes in the file, the
                // gateway reloads it, and new sessions start on the new version while every running session
                // keeps its container (and keeps getting it back through the restarts below).
                Files.writeString(config, Files.readString(config).replace("version: it\n", "version: it2\n"));
                second.awaitLogLine("config reloaded (");
                try (FrameClient upgraded = FrameClient.connect(vertx, port, null)) {
                    assertEquals("it2", upgraded.hello().getString("version"), "a session started after the upgrade");
                }
                second.hangUp();
                second.awaitLogLine("config reloaded (SIGHUP)");

                // SIGTERM drains first: at once not ready and refusing new connections (503), while the
                // attached clients keep streaming for sessions.drainDeadline; then, with onShutdown keep,
                // they are told to come back (1012) and the containers stay.
                long terminated = System.nanoTime();
                second.terminate();
                awaitStatus(port, "/health/ready", 503, second);
                assertEquals(200, status(port, "/health/live"), "liveness is not readiness: the process still answers");
                assertTrue(
                        FrameClient.refusal(vertx, port).getMessage().contains("503"),
                        "new connections get 503 while draining");
                assertTrue(second.process.waitFor(30, TimeUnit.SECONDS), "the gateway exits within 30s of SIGTERM");
                long drainedMs = (System.nanoTime() - terminated) / 1_000_000;
                assertEquals(0, second.process.exitValue(), "clean exit on SIGTERM; see " + second.log);
                assertTrue(drainedMs >= DRAIN.toMillis(), "the pipes went on through the drain, " + drainedMs + "ms");
                for (Visitor v : visitors) {
                    List<Long> duringDrain = v.client.listingSeqsUntilClosed();
                    v.lastSeq = Math.max(v.lastSeq, max(duringDrain));
                    assertEquals(1012, v.client.awaitClose(), v + ": told to reconnect (service restart)");
                    assertTrue(
                            duringDrain.size() >= FEED_PER_SECOND * DRAIN.toSeconds() / 2,
                            v + ": the feed kept coming while the gateway drained: " + duringDrain.size()
                                    + " listings");
                }
                assertAllContainersRunning(docker, "after the gateway was SIGTERMed");

                GatewayProcess third = startGateway(port);
                awaitAdoption(third, "after SIGTERM");
                third.awaitLogLine("version it of route " + route + " drains");
                reconnectAll(port, 3);

                // A normal close (1000) ends the session: the gateway removes its container.
                forEachInParallel(RECONNECT_AT_ONCE, v -> v.client.close());
                awaitNoContainers(docker);
                assertEquals(0, health(port).getInteger("sessions"), "every session ended");
                third.terminate();
                assertTrue(third.process.waitFor(30, TimeUnit.SECONDS), "the last gateway exits on SIGTERM");
                assertEquals(0, third.process.exitValue(), "clean exit on SIGTERM; see " + third.log);
            } finally {
                cleanUp(docker);
            }
        }
    }

    // --- the gateway processes

    /** A config of our own: unique route, docker launcher, containers kept at shutdown, 60s grace. */
    private Path writeConfig() throws Exception {
        Path file = Files.createTempFile("berth-survival-", ".yaml");
        Files.writeString(file, """
        listen: {host: 127.0.0.1, port: 0}
        admin: {port: 0, tokenFile: "%s", readOnlyTokenFile: "%s"}
        launcher: docker
        sessions: {onShutdown: keep, drainDeadline: %ds}
        routes:
          - name: %s
            path: /ws
            version: it
            docker: {image: "%s"}
            maxSessions: 40
            timeouts: {grace: 60s, start: 30s, ready: 30s} # a loaded test machine
        """.formatted(
                        file + ".admin.key", file + ".admin-read.key", DRAIN.toSeconds(), route, TestGateway.IMAGE));
        return file;
    }

    private GatewayProcess startGateway(int port) throws Exception {
        GatewayProcess run = GatewayProcess.startGateway(
                config, port, LOG_DIR.resolve("survival-gateway-" + (gateways.size() + 1) + ".log"));
        gateways.add(run);
        return run;
    }

    /**
     * Times what a restart costs before clients can come back: process start to the first /health
     * answer, then to /health reporting every session re-adopted and piped to its container
     * (detached: waiting for its client).
     */
    private void awaitAdoption(GatewayProcess gateway, String when) throws Exception {
        long healthAt = System.nanoTime();
        while (health(gateway.port) == null) {
            assertTrue(
                    System.nanoTime() - healthAt < GatewayProcess.LISTEN_TIMEOUT.toNanos(),
                    "/health never answered; see " + gateway.log);
            Thread.sleep(20);
        }
        healthAt = System.nanoTime();
        long toHealthMs = (healthAt - gateway.startedNanos) / 1_000_000;
        JsonObject health = health(gateway.port);
        while (detached(health) < SESSIONS) {
            assertTrue(
                    System.nanoTime() - healthAt < ADOPT_TIMEOUT.toNanos(),
                    "not every session was re-adopted " + ADOPT_TIMEOUT.toSeconds() + "s after /health answered: "
                            + health + "; see " + gateway.log);
            Thread.sleep(20);
            health = health(gateway.port);
        }
        long toAdoptedMs = (System.nanoTime() - healthAt) / 1_000_000;
        assertEquals(SESSIONS, health.getInteger("sessions"), "only this run's sessions: " + health);
        System.out.printf(
                Locale.ROOT,
                "SessionSurvivalTest %s: process start -> /health %d ms; /health -> %d sessions"
                        + " detached %d ms (%s)%n",
                when,
                toHealthMs,
                SESSIONS,
                toAdoptedMs,
                health.encode());
    }

    private static int detached(JsonObject health) {
        return health == null
                ? 0
                : health.getJsonObject("states", new JsonObject()).getInteger("detached", 0);
    }

    /** Waits until GET {@code path} answers {@code expected}. */
    private void awaitStatus(int port, String path, int expected, GatewayProcess gateway) throws Exception {
        long giveUp = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        int last;
        while ((last = status(port, path)) != expected) {
            assertTrue(
                    System.nanoTime() < giveUp,
                    path + " answered " + last + ", not " + expected + "; see " + gateway.log);
            Thread.sleep(20);
        }
    }

    private int status(int port, String path) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** GET /health, or null while nothing answers. */
    private JsonObject health(int port) throws InterruptedException {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? new JsonObject(response.body()) : null;
        } catch (java.io.IOException notYet) {
            return null;
        }
    }

    // --- the clients

    /** Opens every session, a few at a time, each streaming its feed once it has echoed its frames. */
    private void openSessions(int port) throws Exception {
        List<Integer> indexes = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            indexes.add(i);
        }
        long begun = System.nanoTime();
        forEachInParallel(OPEN_AT_ONCE, indexes, i -> visitors.add(openSession(port, i)));
        System.out.printf(
                Locale.ROOT,
                "SessionSurvivalTest: %d sessions open and streaming after %d ms%n",
                SESSIONS,
                (System.nanoTime() - begun) / 1_000_000);
        assertEquals(SESSIONS, visitors.stream().map(v -> v.key).distinct().count(), "one session key per client");
    }

    /** A new session whose client sends {@code index + 1} frames, so each container holds a count of its own. */
    private Visitor openSession(int port, int index) throws Exception {
        FrameClient client = FrameClient.connect(vertx, port, null);
        Visitor visitor = new Visitor(index, client);
        JsonObject hello = client.hello();
        visitor.key = hello.getString("session");
        visitor.token = client.sessionToken();
        assertEquals(1, hello.getInteger("connection"), visitor + ": a new container");
        for (int n = 0; n < visitor.framesSent; n++) {
            String text = "visitor " + index + " frame " + n;
            client.socket().writeTextMessage(text);
            assertEquals(text, client.nextDataFrame().textData(), visitor + ": echo of frame " + n);
        }
        startFeed(visitor);
        return visitor;
    }

    /** Turns the listing feed up and waits until it flows, remembering the last seq seen. */
    private static void startFeed(Visitor visitor) throws Exception {
        visitor.client.sendJson(new JsonObject().put("cmd", "feed").put("perSecond", FEED_PER_SECOND));
        visitor.lastSeq = Math.max(visitor.lastSeq, max(visitor.client.listingSeqs(3)));
    }

    /**
     * Every client comes back with its cookie, a few at a time: each finds its own container (same
     * key), which saw one more gateway connection, kept the frames it counted, and whose listing
     * feed goes on past the last seq the client saw.
     */
    private void reconnectAll(int port, int expectedConnection) throws Exception {
        long begun = System.nanoTime();
        forEachInParallel(RECONNECT_AT_ONCE, v -> {
            v.client.close(); // the old socket is closed already: this releases its WebSocketClient
            v.client = FrameClient.connect(vertx, port, v.token);
            JsonObject hello = v.client.hello();
            assertEquals(v.key, hello.getString("session"), v + ": its own container");
            assertEquals(
                    expectedConnection,
                    hello.getInteger("connection"),
                    v + ": the container saw one more gateway connection (the re-adopting gateway's)");
            assertEquals(v.framesSent, v.client.state().getLong("framesReceived"), v + ": its state came back");
            // The feed rate is per handler connection: the new one runs at the handler's default, so
            // only the seqs (per container) are checked to go on; then the rate is turned up again.
            List<Long> seqs = v.client.listingSeqs(2);
            assertTrue(seqs.get(0) > v.lastSeq, v + ": listing seqs go on after " + v.lastSeq + ", got " + seqs);
            assertTrue(seqs.get(1) > seqs.get(0), v + ": listing seqs increase: " + seqs);
            v.lastSeq = seqs.get(1);
            startFeed(v);
        });
        System.out.printf(
                Locale.ROOT,
                "SessionSurvivalTest: %d clients reconnected (connection %d) in %d ms%n",
                SESSIONS,
                expectedConnection,
                (System.nanoTime() - begun) / 1_000_000);
    }

    private void assertAllContainersRunning(DockerTestBackends docker, String when) {
        for (Visitor v : visitors) {
            assertEquals(1, docker.containers(route, v.key, false).size(), v + ": its container is running " + when);
        }
    }

    private void awaitNoContainers(DockerTestBackends docker) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int left;
        while ((left = docker.containers(route, null, true).size()) > 0 && System.nanoTime() < giveUp) {
            Thread.sleep(250);
        }
        assertEquals(0, left, "the containers of sessions their clients closed with 1000 are removed");
    }

    private static long max(List<Long> seqs) {
        return seqs.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private interface Step<T> {
        void run(T item) throws Exception;
    }

    private void forEachInParallel(int atOnce, Step<Visitor> step) throws Exception {
        forEachInParallel(atOnce, List.copyOf(visitors), step);
    }

    /** Runs {@code step} on every item, {@code atOnce} at a time; fails with the first failure, after all finished. */
    private static <T> void forEachInParallel(int atOnce, List<T> items, Step<T> step) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(atOnce);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (T item : items) {
                running.add(pool.submit(() -> {
                    step.run(item);
                    return null;
                }));
            }
            Throwable first = null;
            for (Future<?> f : running) {
                try {
                    f.get(3, TimeUnit.MINUTES);
                } catch (java.util.concurrent.ExecutionException e) {
                    first = first == null ? e.getCause() : first;
                } catch (TimeoutException e) {
                    first = first == null ? e : first;
                }
            }
            if (first instanceof Error error) {
                throw error;
            }
            if (first != null) {
                throw new AssertionError(first.toString(), first);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // --- cleanup

    /** Runs whether the test passed or not: nothing this run made may outlive it. */
    private void cleanUp(DockerTestBackends docker) throws Exception {
        for (Visitor v : List.copyOf(visitors)) {
            try {
                v.client.close();
            } catch (Exception ignored) {
                // the gateway may be gone: the socket is removed with the containers below
            }
        }
        for (GatewayProcess run : gateways) {
            if (run.process.isAlive()) {
                run.kill();
                run.process.waitFor(30, TimeUnit.SECONDS);
            }
        }
        int removed = docker.removeAll(route);
        if (removed > 0) {
            System.out.println("SessionSurvivalTest: removed " + removed + " leftover container(s) of route " + route);
        }
        if (config != null) {
            Files.deleteIfExists(config);
            Files.deleteIfExists(Path.of(config + ".admin.key"));
            Files.deleteIfExists(Path.of(config + ".admin-read.key"));
        }
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    /** One simulated user: the client of the moment, and what it knows about its session. */
    private static final class Visitor {
        final int index;
        final int framesSent;
        volatile FrameClient client;
        volatile String token;
        volatile String key;
        volatile long lastSeq;

        Visitor(int index, FrameClient client) {
            this.index = index;
            this.framesSent = index + 1;
            this.client = client;
        }

        @Override
        public String toString() {
            return "client " + index + " (session " + key + ")";
        }
    }
}
