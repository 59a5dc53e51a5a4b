package dev.berth.gateway.edge;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.session.SessionMeter;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.logging.Logger;

/**
 * Answers a websocket upgrade that cannot be accepted with its failure's HTTP status (503 with
 * Retry-After when Berth cannot launch now, 502 when the backend failed, 426 when it was no
 * websocket request) and a one-line text body that says why in terms fit for a client. The log
 * gets the full detail; every refusal is counted by route and failure.
 */
final class HandshakeRefusal {

    private static final Logger LOG = Logger.getLogger(HandshakeRefusal.class.getName());

    private final RouteConfig route;
    private final SessionMeter meter;
    private final String cookie;
    /** A route's handler serves every data loop, and only refusals come here. */
    private final RefusalLog refusals = new RefusalLog(LOG);

    HandshakeRefusal(RouteConfig route, SessionMeter meter, String cookie) {
        this.route = route;
        this.meter = meter;
        this.cookie = cookie;
    }

    void send(HttpServerRequest request, PublicView from, Throwable error) {
        FailureException known = FailureException.wrap(error, Failure.START_FAILED, "launch failed");
        send(request, from, known.failure(), known.getMessage());
    }

    /**
     * @param from the client as the edge made it out, for the log
     * @param detail for the log only: it may name backends and their addresses
     */
    void send(HttpServerRequest request, PublicView from, Failure failure, String detail) {
        HttpServerResponse response = request.response();
        if (response.ended() || response.closed()) {
            LOG.info("client " + from + " left " + request.path() + " before its session was ready (" + failure.tag()
                    + ": " + detail + ")");
            return;
        }
        meter.refused(route.name(), failure);
        refusals.log(
                failure,
                "refused websocket upgrade " + request.path() + " from " + from + " with " + failure.httpStatus() + " "
                        + failure.tag() + ": " + detail);
        if (failure == Failure.NOT_WEBSOCKET) {
            response.putHeader("Upgrade", "websocket");
        } else if (failure == Failure.INVALID_TOKEN) {
            // Forget it, so the client's next attempt opens a new session instead of failing again.
            response.putHeader(
                    "Set-Cookie", cookie + "=; Path=" + route.path() + "; Max-Age=0; HttpOnly; SameSite=Lax");
        }
        answer(response, failure);
    }

    /**
     * The failure's status, Retry-After when a retry later can succeed, the challenge of a 401, and
     * the one-line body {@code tag: reason}.
     */
    static void answer(HttpServerResponse response, Failure failure) {
        if (failure.temporary()) {
            response.putHeader("Retry-After", Integer.toString(Failure.RETRY_AFTER_SECONDS));
        }
        if (failure.challenge() != null) {
            response.putHeader("WWW-Authenticate", failure.challenge());
        }
        response.setStatusCode(failure.httpStatus())
                .putHeader("Content-Type", "text/plain; charset=utf-8")
                .end(failure.tag() + ": " + failure.publicReason() + "\n");
    }
}
