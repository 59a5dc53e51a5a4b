package dev.berth.gateway.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The benchmark's websocket clients and what they measured: the warm-up sessions, the cold starts (one after
 * another) and the further idle sessions (a few at a time). Every client that got its hello stays open, and
 * counts as idle, until {@link #closeAll}.
 */
final class SessionClients {

    static final int WARMUP_SESSIONS = 2;
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(40); // start 10s + ready 15s + slack
    private static final int MAX_FAILURES = 5;

    /** One cold start: its timings in ms, and what the hello and the handshake said. */
    record ColdStart(double upgradeMs, double helloMs, String key, String hostname, int connection, boolean cookie) {}

    private final Vertx vertx;
    private final Options options;
    private final Deadline deadline;
    private final List<BenchClient> clients = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> sessionKeys = ConcurrentHashMap.newKeySet();
    private final List<ColdStart> coldStarts = new ArrayList<>();
    private final List<String> coldFailures = new ArrayList<>();
    private final List<Double> idleOpenMillis = Collections.synchronizedList(new ArrayList<>());
    private final List<String> idleFailures = Collections.synchronizedList(new ArrayList<>());
    private double idleOpenSeconds = -1;

    SessionClients(Vertx vertx, Options options, Deadline deadline) {
        this.vertx = vertx;
        this.options = options;
        this.deadline = deadline;
    }

    /** Opens and closes {@link #WARMUP_SESSIONS} sessions, one after another, so the gateway's code paths are warm. */
    void warmUp(int port) throws Exception {
        for (int i = 0; i < WARMUP_SESSIONS; i++) {
            BenchClient warm = newClient();
            warm.open(port, SESSION_TIMEOUT).await(deadline.boundedMillis(SESSION_TIMEOUT), TimeUnit.MILLISECONDS);
            Progress.print("warm-up " + (i + 1) + "/" + WARMUP_SESSIONS + ": hello after "
                    + Math.round(warm.helloMillis()) + "ms");
            warm.close().await(deadline.boundedMillis(Duration.ofSeconds(10)), TimeUnit.MILLISECONDS);
            clients.remove(warm);
        }
    }

    /** The cold starts: {@code --sessions} new clients one after another, each kept open once it has its hello. */
    void startColdSessions(int port) throws Exception {
        for (int i = 0; i < options.sessions(); i++) {
            if (i > 0 && options.pauseMs() > 0) {
                Thread.sleep(Math.min(options.pauseMs(), deadline.boundedMillis(Duration.ofMillis(options.pauseMs()))));
            }
            BenchClient client = newClient();
            try {
                JsonObject hello = client.open(port, SESSION_TIMEOUT)
                        .await(deadline.boundedMillis(SESSION_TIMEOUT), TimeUnit.MILLISECONDS);
                String key = hello.getString("session", "");
                sessionKeys.add(key);
                coldStarts.add(new ColdStart(
                        client.upgradeMillis(),
                        client.helloMillis(),
                        key,
                        hello.getString("hostname"),
                        hello.getInteger("connection", -1),
                        client.handshakeCarriedSession()));
                Progress.print("cold " + (i + 1) + "/" + options.sessions() + ": 101 after "
                        + Math.round(client.upgradeMillis()) + "ms, hello after " + Math.round(client.helloMillis())
                        + "ms");
            } catch (Exception e) {
                coldFailures.add("cold start " + (i + 1) + ": " + e);
                Progress.print("cold " + (i + 1) + "/" + options.sessions() + " FAILED: " + e);
                discard(client);
                if (coldFailures.size() > MAX_FAILURES) {
                    throw new IllegalStateException(
                            coldFailures.size() + " cold starts failed; first: " + coldFailures.get(0));
                }
            }
            deadline.check("cold starts");
        }
    }

    /** Opens sessions, {@code --concurrency} at a time, until {@code --idle} clients are open. */
    void openIdleSessions(int port) throws Exception {
        int toOpen = options.idle() - openCount();
        Progress.print("opening " + toOpen + " more idle sessions, " + options.concurrency() + " at a time");
        Semaphore slots = new Semaphore(options.concurrency());
        long begun = System.nanoTime();
        for (int i = 0; i < toOpen && idleFailures.size() <= MAX_FAILURES; i++) {
            if (!slots.tryAcquire(deadline.boundedMillis(Duration.ofMinutes(10)), TimeUnit.MILLISECONDS)) {
                throw new TimeoutException("time limit reached while opening idle sessions");
            }
            BenchClient client = newClient();
            client.open(port, SESSION_TIMEOUT).onComplete(outcome -> {
                if (outcome.succeeded()) {
                    idleOpenMillis.add(client.helloMillis());
                    sessionKeys.add(outcome.result().getString("session", ""));
                } else {
                    idleFailures.add(String.valueOf(outcome.cause()));
                    discard(client);
                }
                slots.release();
            });
            if ((i + 1) % 20 == 0) {
                Progress.print("idle: " + (i + 1) + "/" + toOpen + " requested");
            }
        }
        long lastOpeningsMs = deadline.boundedMillis(SESSION_TIMEOUT.plusSeconds(5));
        if (!slots.tryAcquire(options.concurrency(), lastOpeningsMs, TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("idle sessions still opening at the time limit");
        }
        idleOpenSeconds = (System.nanoTime() - begun) / 1e9;
        Progress.print("idle: " + openCount() + " clients open after "
                + String.format(Locale.ROOT, "%.1f", idleOpenSeconds) + "s, " + idleFailures.size() + " failed");
        if (idleFailures.size() > MAX_FAILURES) {
            throw new IllegalStateException(
                    idleFailures.size() + " idle sessions failed; first: " + idleFailures.get(0));
        }
    }

    private BenchClient newClient() {
        BenchClient client = new BenchClient(vertx);
        clients.add(client);
        return client;
    }

    private void discard(BenchClient client) {
        clients.remove(client);
        client.close();
    }

    /** How many clients are open right now. */
    int openCount() {
        synchronized (clients) {
            return (int) clients.stream().filter(BenchClient::isOpen).count();
        }
    }

    /** Closes every client still held; says how that went, or nothing when none was held. */
    Optional<String> closeAll() {
        List<BenchClient> all;
        synchronized (clients) {
            all = new ArrayList<>(clients);
            clients.clear();
        }
        if (all.isEmpty()) {
            return Optional.empty();
        }
        try {
            List<Future<Void>> closing = new ArrayList<>();
            all.forEach(c -> closing.add(c.close()));
            Future.join(closing).await(30, TimeUnit.SECONDS);
            return Optional.of("closed " + all.size() + " client(s)");
        } catch (Exception e) {
            return Optional.of("closing the clients did not finish cleanly: " + e);
        }
    }

    /** The sessions the hellos named (cold starts and idle sessions). */
    Set<String> sessionKeys() {
        return sessionKeys;
    }

    List<ColdStart> coldStarts() {
        return coldStarts;
    }

    List<String> coldFailures() {
        return coldFailures;
    }

    /** Connect → hello of each idle session opened after the cold starts; a copy. */
    List<Double> idleOpenMillis() {
        synchronized (idleOpenMillis) {
            return new ArrayList<>(idleOpenMillis);
        }
    }

    List<String> idleFailures() {
        return idleFailures;
    }

    /** How long opening the idle sessions took; -1 when that did not finish. */
    double idleOpenSeconds() {
        return idleOpenSeconds;
    }
}
