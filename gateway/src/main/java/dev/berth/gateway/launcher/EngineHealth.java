package dev.berth.gateway.launcher;

import com.github.dockerjava.transport.DockerHttpClient;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Tells an engine that hangs from one that fails. Every call the launchers make is tracked with
 * the time it may take ({@code docker.stallAfter}, plus the stop timeout for a stop); and every
 * {@value #PROBE_INTERVAL_MS} ms a probe of its own ({@code GET /info}, on its own connection and
 * thread, so it never waits behind stuck calls) must answer within {@value #PROBE_TIMEOUT_MS} ms.
 * A call past its time or a probe unanswered makes the engine stalled: new sessions are refused at
 * once instead of queueing launches behind calls that may never return. Seen on Debian's dockerd
 * 20.10: a wedged network lock left {@code /info} and container stops unanswered for good.
 */
final class EngineHealth {

    private static final Logger LOG = Logger.getLogger(EngineHealth.class.getName());
    static final long PROBE_INTERVAL_MS = 2000;
    static final long PROBE_TIMEOUT_MS = 5000;

    private record Call(long startedNanos, long deadlineNanos) {}

    private final Vertx vertx;
    private final Duration stallAfter;
    private final DockerHttpClient probeClient;
    private final WorkerExecutor probeThread;
    private final Set<Call> inFlight = ConcurrentHashMap.newKeySet();
    private final long probeTimer;
    private volatile long probeStartedNanos;
    private volatile EngineStatus.State probed = EngineStatus.State.UP;
    private volatile String probeDetail = "";
    private EngineStatus.State lastLogged = EngineStatus.State.UP;

    EngineHealth(Vertx vertx, URI engine, Duration stallAfter) {
        this.vertx = vertx;
        this.stallAfter = stallAfter;
        this.probeClient = new EngineHttpClient(engine, 1, Duration.ofSeconds(3), Duration.ofMillis(PROBE_TIMEOUT_MS));
        this.probeThread = vertx.createSharedWorkerExecutor("berth-docker-probe", 1);
        this.probeTimer = vertx.setPeriodic(PROBE_INTERVAL_MS, id -> probe());
    }

    /** {@code call}, tracked while it runs: past {@code docker.stallAfter} plus {@code allowance}, the engine is stalled. */
    <T> Callable<T> tracked(Duration allowance, Callable<T> call) {
        return () -> {
            long now = System.nanoTime();
            Call running = new Call(now, now + stallAfter.plus(allowance).toNanos());
            inFlight.add(running);
            try {
                return call.call();
            } finally {
                inFlight.remove(running);
            }
        };
    }

    private void probe() {
        logChange(status()); // a call past its time, or a probe that went unanswered, shows here first
        if (probeStartedNanos != 0) {
            return; // the last one still waits: status() counts it
        }
        probeStartedNanos = System.nanoTime();
        probeThread
                .executeBlocking(
                        () -> {
                            try (DockerHttpClient.Response answer =
                                            probeClient.execute(DockerHttpClient.Request.builder()
                                                    .method(DockerHttpClient.Request.Method.GET)
                                                    .path("/info")
                                                    .build());
                                    InputStream body = answer.getBody()) {
                                body.readAllBytes();
                                return answer.getStatusCode();
                            }
                        },
                        false)
                .onComplete(answered -> {
                    probeStartedNanos = 0;
                    if (answered.succeeded()) {
                        probed = EngineStatus.State.UP;
                        probeDetail = "";
                    } else {
                        boolean hung = causedBy(answered.cause(), java.net.SocketTimeoutException.class);
                        probed = hung ? EngineStatus.State.STALLED : EngineStatus.State.DOWN;
                        probeDetail = hung
                                ? "GET /info unanswered for " + PROBE_TIMEOUT_MS + "ms"
                                : "GET /info failed: " + answered.cause().getMessage();
                    }
                    logChange(status());
                });
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> kind) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (kind.isInstance(cause)) {
                return true;
            }
        }
        return false;
    }

    /** How the engine looks now; cheap, from any thread. */
    EngineStatus status() {
        long now = System.nanoTime();
        long late =
                inFlight.stream().filter(call -> now - call.deadlineNanos() > 0).count();
        long probing = probeStartedNanos;
        if (late > 0) {
            long oldestMs = inFlight.stream()
                    .mapToLong(call -> (now - call.startedNanos()) / 1_000_000)
                    .max()
                    .orElse(0);
            return new EngineStatus(
                    EngineStatus.State.STALLED,
                    late + " engine call(s) running past " + stallAfter.toMillis()
                            + "ms (docker.stallAfter), the oldest for " + oldestMs + "ms",
                    (int) late);
        }
        if (probing != 0 && now - probing > PROBE_TIMEOUT_MS * 1_000_000) {
            return new EngineStatus(
                    EngineStatus.State.STALLED, "GET /info unanswered for over " + PROBE_TIMEOUT_MS + "ms", 0);
        }
        return new EngineStatus(probed, probeDetail, 0);
    }

    private synchronized void logChange(EngineStatus now) {
        if (now.state() != lastLogged) {
            String line = "engine " + now.state().tag() + (now.detail().isEmpty() ? "" : ": " + now.detail());
            if (now.state() == EngineStatus.State.UP) {
                LOG.info(line);
            } else {
                LOG.warning(line + (now.stalled() ? "; new sessions get 503 engine_unavailable until it answers" : ""));
            }
            lastLogged = now.state();
        }
    }

    void close() {
        vertx.cancelTimer(probeTimer);
        probeThread.close();
        try {
            probeClient.close();
        } catch (java.io.IOException ignored) {
            // closing anyway
        }
    }
}
