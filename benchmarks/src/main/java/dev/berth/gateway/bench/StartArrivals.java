package dev.berth.gateway.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Open-loop arrivals on the shipped config's pool (docker-spaced, docker-arrivals): in each wave, session {@code i}
 * connects {@code i × gap} after the wave began, on time whatever the others do (a connect never waits for an
 * earlier hello) from a loopback address of its own (127.0.0.2, .3, ...: a user each, as the per-client limits
 * see them), and every session stays open until the last one of its wave had its hello, as users' sessions
 * would; then they all close. Before a wave after the first, the pool is given time to follow the one before:
 * until it starts nothing and holds its target (bounded), which is what a second wave a while later finds.
 */
final class StartArrivals {

    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(40);
    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(150);
    private static final Duration SESSION_END_TIMEOUT = Duration.ofSeconds(30);

    /** One wave: when it started, the pool as it found it, and how long the pool took to settle before it. */
    record Wave(int number, int sessions, int gapMs, int idleBefore, int targetBefore, double settleMs) {}

    private final Vertx vertx;
    private final GatewayProcess gateway;
    private final int port;
    private final StartRoute route;
    private final StartResult result;
    private final Deadline deadline;

    StartArrivals(
            Vertx vertx, GatewayProcess gateway, int port, StartRoute route, StartResult result, Deadline deadline) {
        this.vertx = vertx;
        this.gateway = gateway;
        this.port = port;
        this.route = route;
        this.result = result;
        this.deadline = deadline;
    }

    /** Sessions docker-spaced or docker-arrivals measures. */
    static int sessions(StartScenario scenario, StartOptions options) {
        return scenario == StartScenario.DOCKER_SPACED ? options.spaced() : 2 * options.arrivals();
    }

    /** {@code waves} waves of {@code count} sessions {@code gapMs} apart; samples are numbered by wave. */
    void run(int waves, int count, int gapMs) throws Exception {
        int index = 0;
        for (int number = 1; number <= waves; number++) {
            deadline.check(result.scenario.flag() + " wave " + number);
            double settleMs = number == 1 ? -1 : settle();
            GatewayMetricsScrape pool = GatewayMetricsScrape.of(port);
            Wave wave = new Wave(
                    number,
                    count,
                    gapMs,
                    pool.poolIdle(route.name),
                    (int) pool.value("berth_pool_target", route.name),
                    settleMs);
            result.waves.add(wave);
            index = wave(wave, index);
        }
    }

    /** Runs one wave; returns the index of its last session. */
    private int wave(Wave wave, int index) throws Exception {
        List<BenchClient> clients = new ArrayList<>();
        List<Future<JsonObject>> hellos = new ArrayList<>();
        long begun = System.nanoTime();
        for (int i = 0; i < wave.sessions(); i++) {
            long due = begun + TimeUnit.MILLISECONDS.toNanos((long) i * wave.gapMs());
            long wait = TimeUnit.NANOSECONDS.toMillis(due - System.nanoTime());
            if (wait > 0) {
                Thread.sleep(deadline.boundedMillis(Duration.ofMillis(wait)));
            }
            BenchClient client = new BenchClient(vertx, "127.0." + ((i + 2) / 250) + "." + ((i + 2) % 250));
            clients.add(client);
            hellos.add(client.open(port, SESSION_TIMEOUT));
        }
        try {
            Future.join(hellos).await(deadline.boundedMillis(SESSION_TIMEOUT.plusSeconds(5)), TimeUnit.MILLISECONDS);
        } catch (Exception someFailed) {
            // each one is looked at below
        }
        int ok = 0;
        for (int i = 0; i < wave.sessions(); i++) {
            Future<JsonObject> hello = hellos.get(i);
            if (hello.succeeded()) {
                result.samples.add(StartResult.Sample.of(
                        index + i + 1,
                        wave.number(),
                        hello.result().getString("session", ""),
                        i == 0 ? wave.idleBefore() : -1,
                        clients.get(i)));
                ok++;
            } else {
                result.failures.add("wave " + wave.number() + " session " + (i + 1) + ": " + hello.cause());
            }
        }
        List<Future<Void>> closing = new ArrayList<>();
        clients.forEach(client -> closing.add(client.close()));
        Future.join(closing).await(30, TimeUnit.SECONDS);
        int left = gateway.awaitSessions(0, Duration.ofMillis(deadline.boundedMillis(SESSION_END_TIMEOUT)));
        if (left != 0) {
            result.notes.add(left + " session(s) still held " + SESSION_END_TIMEOUT.toSeconds()
                    + " s after their clients closed with 1000");
        }
        Progress.print(String.format(
                Locale.ROOT,
                "%s wave %d: %d of %d got their hello, %d ms apart (pool idle before: %d, target %d)",
                result.scenario.flag(),
                wave.number(),
                ok,
                wave.sessions(),
                wave.gapMs(),
                wave.idleBefore(),
                wave.targetBefore()));
        return index + wave.sessions();
    }

    /** Waits until the pool starts nothing and holds its target, bounded; returns how long that took, ms. */
    private double settle() throws Exception {
        long begun = System.nanoTime();
        long giveUp = begun + deadline.boundedMillis(SETTLE_TIMEOUT) * 1_000_000;
        while (System.nanoTime() < giveUp) {
            GatewayMetricsScrape pool = GatewayMetricsScrape.of(port);
            double target = pool.value("berth_pool_target", route.name);
            if (pool.value("berth_pool_starting", route.name) == 0 && pool.poolIdle(route.name) >= target) {
                return (System.nanoTime() - begun) / 1e6;
            }
            Thread.sleep(500);
        }
        result.notes.add("the pool had not settled " + SETTLE_TIMEOUT.toSeconds() + " s after the wave before");
        return (System.nanoTime() - begun) / 1e6;
    }
}
