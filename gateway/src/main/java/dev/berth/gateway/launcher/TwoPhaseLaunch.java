package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The launch steps every launcher shares: start the backend within the route's start timeout,
 * then wait for it to be ready within its ready timeout. Whatever a failed step started is
 * stopped here, in one place, so no error path can leak a backend.
 */
final class TwoPhaseLaunch {

    private static final Logger LOG = Logger.getLogger(TwoPhaseLaunch.class.getName());

    private final Vertx vertx;
    private final ReadinessProbe probe;

    TwoPhaseLaunch(Vertx vertx) {
        this.vertx = vertx;
        this.probe = new ReadinessProbe(vertx);
    }

    /**
     * @param start starts the backend and completes once it runs; if it fails, it has already
     *     cleaned up what it made
     */
    Future<Backend> run(LaunchRequest request, Supplier<Future<Backend>> start) {
        RouteConfig.Timeouts timeouts = request.route().timeouts();
        long begun = System.nanoTime();
        request.progress().starting();
        return withDeadline(start.get(), timeouts.start(), request.route().key("timeouts.start"))
                .onSuccess(backend -> {
                    LOG.info(() -> "launch session " + request.sessionKey() + ": " + backend.description()
                            + " running after " + (System.nanoTime() - begun) / 1_000_000 + "ms");
                    request.progress().running();
                })
                .compose(backend -> probe.awaitReady(
                                backend, timeouts.ready(), request.route().key("timeouts.ready"))
                        .map(backend)
                        .recover(notReady -> backend.stop().transform(stopped -> Future.failedFuture(notReady))));
    }

    /** Fails at the deadline; a backend that starts after it is stopped rather than leaked. */
    private Future<Backend> withDeadline(Future<Backend> starting, Duration limit, String settingKey) {
        Promise<Backend> result = Promise.promise();
        long timer = vertx.setTimer(
                limit.toMillis(),
                id -> result.tryFail(new FailureException(
                        Failure.START_TIMEOUT,
                        "backend not running within " + limit.toMillis() + "ms (" + settingKey
                                + "); raise it, or check the engine")));
        starting.onComplete(outcome -> {
            vertx.cancelTimer(timer);
            boolean inTime =
                    outcome.succeeded() ? result.tryComplete(outcome.result()) : result.tryFail(outcome.cause());
            if (!inTime && outcome.succeeded()) {
                outcome.result().stop();
            }
        });
        return result.future();
    }

    Future<Void> close() {
        return probe.close();
    }
}
