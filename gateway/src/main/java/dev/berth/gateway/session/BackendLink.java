package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchProgress;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.SessionUser;
import dev.berth.gateway.pipe.Direction;
import dev.berth.gateway.pipe.SessionPipe;
import dev.berth.gateway.pool.WarmPool;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A session's link to its backend: the backend (taken from the warm pool, launched, or adopted),
 * the gateway's websocket to it and the pipe over that websocket, and how they are let go of. On
 * the control loop, as its session; the pipe lives on {@link #loop}, a data loop.
 */
final class BackendLink {

    /** How long a backend gets to answer the session's close frame before it is stopped anyway. */
    private static final long BACKEND_CLOSE_WAIT_MS = 1000;

    private final SessionServices services;
    private final RouteConfig route;
    /** Until a launch or an adoption gives it one, a session has no backend to stop. */
    private Future<Backend> backend = Future.failedFuture(new FailureException(Failure.START_FAILED, "never launched"));
    /** Completed when the session ends, so a launch still waiting for a slot is withdrawn and frees it at once. */
    private final Promise<Void> launchWithdrawn = Promise.promise();
    /** A pooled backend's websocket, dialled before the session existed, and its hello. */
    private WarmPool.Claimed pooled;

    private SessionPipe pipe;
    /** The data loop the session's backend websocket is dialled from, and its pipe lives on. */
    private Context loop;

    BackendLink(SessionServices services, RouteConfig route, Context loop) {
        this.services = services;
        this.route = route;
        this.loop = loop;
    }

    /**
     * Takes a backend from {@code pool} for session {@code key}, or launches one now when the pool is
     * empty (or there is none); either way its handler is told {@code user} (or no one).
     */
    Future<Backend> launch(String key, SessionUser user, WarmPool pool, LaunchProgress progress) {
        Future<WarmPool.Claimed> fromPool = pool == null ? Future.succeededFuture() : pool.take(key, user, loop);
        backend = fromPool.compose(taken -> {
            if (taken == null) {
                long begun = System.nanoTime();
                Future<Backend> launched = services.launcher()
                        .launch(new LaunchRequest(key, route, user, progress, launchWithdrawn.future()));
                return pool == null
                        ? launched
                        : launched.onSuccess(
                                ready -> pool.launchedForSession(Duration.ofNanos(System.nanoTime() - begun)));
            }
            pooled = taken;
            loop = taken.loop();
            return Future.succeededFuture(taken.backend());
        });
        return backend;
    }

    /** A backend found running on the engine. */
    void adopt(Backend found) {
        backend = Future.succeededFuture(found);
    }

    /** The backend, once there is one. */
    Backend backend() {
        return backend.result();
    }

    /** Whether {@code other} is a handle on this link's own backend. */
    boolean runsOn(Backend other) {
        return backend.succeeded() && backend.result().sameAs(other);
    }

    /** Whether its backend came from the warm pool. */
    boolean pooled() {
        return pooled != null;
    }

    /** The gateway's websocket to {@code ready}: the pool's, dialled before, or dialled now from the link's loop. */
    Future<WebSocket> dial(Backend ready) {
        return pooled == null
                ? services.dialer().dial(ready, route.path(), loop)
                : Future.succeededFuture(pooled.socket());
    }

    /** Opens the pipe over {@code upstream}, on the link's loop; its reports go to {@code events}. */
    void open(WebSocket upstream, SessionPipe.Listener events) {
        RouteConfig.Buffer bound = route.buffer();
        pipe = SessionPipe.open(
                services.vertx(),
                loop,
                upstream,
                bound.maxBytes(),
                bound.maxFrames(),
                services.maxFrameBytes(),
                services.maxMessageBytes(),
                services.meter(),
                services.control(),
                events,
                pooled == null ? null : pooled.hello());
    }

    /** The pipe; null until the backend's websocket is open. */
    SessionPipe pipe() {
        return pipe;
    }

    /** Closes both ends of the pipe, if open; completes once both answered, failed after a second. */
    Future<Void> close(int clientCode, String clientReason, int backendCode, String backendReason) {
        return pipe == null
                ? Future.succeededFuture()
                : pipe.close(clientCode, clientReason, backendCode, backendReason)
                        .timeout(BACKEND_CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
    }

    /** Withdraws a launch still waiting for a slot, which frees it at once. */
    void withdraw() {
        launchWithdrawn.tryComplete();
    }

    /** Stops the backend, once its launch is over; done at once when it never ran. */
    Future<Void> stop() {
        return backend.transform(
                launched -> launched.succeeded() ? launched.result().stop() : Future.succeededFuture());
    }

    /** What passed each way, for the end's log line; empty before the pipe is open. */
    String traffic() {
        return pipe == null ? "" : "; " + pipe.traffic();
    }

    long bytes(Direction direction) {
        return pipe == null ? 0 : pipe.bytes(direction);
    }

    /** When data last passed the pipe, or {@code before} while there is none. */
    long lastDataNanos(long before) {
        return pipe == null ? before : pipe.lastDataNanos();
    }
}
