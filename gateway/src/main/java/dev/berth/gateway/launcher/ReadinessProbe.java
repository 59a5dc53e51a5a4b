package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;

/**
 * Asks a backend's {@code GET /ready} until it answers 200, the backend exits, or the deadline
 * passes. The failure says which, and names the setting to raise. Only refused connections are
 * retried often: once the handler's socket listens, the kernel takes the connection and the
 * request waits there for the handler's answer, so readiness is seen as it happens, not at the
 * next poll.
 */
final class ReadinessProbe {

    /** A refused connect costs a SYN and a RST on a local bridge: cheap enough to retry this often. */
    private static final long POLL_INTERVAL_MS = 5;

    private static final long ATTEMPT_TIMEOUT_MS = 1000;

    private final Vertx vertx;
    // Held for the probe's lifetime: an unreachable client is closed by a Cleaner.
    private final HttpClient http;

    ReadinessProbe(Vertx vertx) {
        this.vertx = vertx;
        this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    }

    Future<Void> awaitReady(Backend backend, Duration within, String settingKey) {
        Promise<Void> ready = Promise.promise();
        backend.exited()
                .onSuccess(reason -> ready.tryFail(new FailureException(
                        Failure.EXITED_EARLY, backend.description() + " exited before it was ready: " + reason)));
        // The deadline holds even while an attempt waits for its answer (an attempt may wait longer).
        long deadline = vertx.setTimer(
                Math.max(1, within.toMillis()),
                id -> ready.tryFail(new FailureException(
                        Failure.READY_TIMEOUT,
                        backend.description() + " did not answer GET /ready within " + within.toMillis() + "ms ("
                                + settingKey + "); raise it, or check the handler's log")));
        ready.future().onComplete(done -> vertx.cancelTimer(deadline));
        poll(backend.address(), ready);
        return ready.future();
    }

    private void poll(SocketAddress address, Promise<Void> ready) {
        if (ready.future().isComplete()) {
            return;
        }
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setServer(address)
                .setHost(address.host())
                .setPort(address.port())
                .setURI("/ready")
                .setTimeout(ATTEMPT_TIMEOUT_MS);
        http.request(request).compose(req -> req.send()).onComplete(answer -> {
            if (answer.succeeded() && answer.result().statusCode() == 200) {
                ready.tryComplete();
            } else if (!ready.future().isComplete()) {
                vertx.setTimer(POLL_INTERVAL_MS, id -> poll(address, ready));
            }
        });
    }

    Future<Void> close() {
        return http.close();
    }
}
