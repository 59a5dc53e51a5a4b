package dev.berth.gateway.edge;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.pipe.AcceptedClient;
import dev.berth.gateway.pipe.ProtocolErrorAnswer;
import dev.berth.gateway.session.Arrival;
import dev.berth.gateway.session.Caller;
import dev.berth.gateway.session.Progress;
import dev.berth.gateway.session.SessionMeter;
import dev.berth.gateway.session.Sessions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The life of a websocket upgrade on a route, upstream first: find the client's session by its
 * token (or open one), arrive at it, wait until the session is piped to its backend, and only then
 * accept the client's handshake and attach it. Anything that fails before the handshake is
 * answered with an HTTP status; after it, the client has a websocket and gets close codes. One per
 * route, shared by every data loop: it keeps no per-request state.
 */
final class SessionWebSocketHandler implements Handler<HttpServerRequest> {

    static final String COOKIE = "berth_session";
    static final String SESSION_HEADER = "Berth-Session";
    /** {@code ?progress=1}: accepted at once and told the steps of the session's start (docs/sessions.md). */
    static final String PROGRESS_PARAMETER = "progress";

    private final RouteConfig route;
    private final Sessions registry;
    private final HandshakeRefusal refusal;
    private final Edge edge;

    /** What every route's handler shares: who the client is, and which pages and users may connect. */
    record Edge(TrustedProxies proxies, OriginPolicy origins, SignIn signIn) {}

    SessionWebSocketHandler(RouteConfig route, Sessions registry, SessionMeter meter, Edge edge) {
        this.route = route;
        this.registry = registry;
        this.refusal = new HandshakeRefusal(route, meter, COOKIE);
        this.edge = edge;
    }

    /** Takes the server's own request, not a router's wrapper, so the websocket is Vert.x's own too. */
    @Override
    public void handle(HttpServerRequest request) {
        PublicView view = edge.proxies().view(request);
        if (!isUpgrade(request)) {
            refusal.send(request, view, Failure.NOT_WEBSOCKET, "a plain " + request.method() + " request");
            return;
        }
        if (!edge.origins().allows(request, view)) {
            refusal.send(
                    request,
                    view,
                    Failure.FORBIDDEN_ORIGIN,
                    "Origin " + request.getHeader(HttpHeaders.ORIGIN) + " is not this site ("
                            + (view.https() ? "https://" : "http://") + view.host() + ") nor in listen.allowedOrigins");
            return;
        }
        // Held until the handshake is accepted: the upgrade completes only once the session is piped.
        request.pause();
        Cookie presented = request.getCookie(COOKIE);
        edge.signIn()
                .user(request, view)
                .compose(user -> registry.arrive(
                        presented == null ? null : presented.getValue(),
                        route,
                        new Caller(view.client(), view.via(), user)))
                .onSuccess(arrival -> proceed(request, view, arrival))
                .onFailure(refused -> refusal.send(request, view, refused));
    }

    private void proceed(HttpServerRequest request, PublicView view, Arrival arrival) {
        request.response().closeHandler(v -> arrival.release()); // the client left before it was attached
        if (request.response().closed()) {
            arrival.release(); // it left while the session was being found
            return;
        }
        if ("1".equals(request.getParam(PROGRESS_PARAMETER))) {
            acceptWithProgress(request, view, arrival);
            return;
        }
        arrival.ready()
                .compose(piped -> accept(request, view, arrival)
                        // The session was ready; failing now means the client went away during its own handshake.
                        .recover(gone -> Future.failedFuture(new ClientLeft(gone))))
                .onSuccess(arrival::attach)
                .onFailure(error -> {
                    arrival.release();
                    if (!(error instanceof ClientLeft)) {
                        refusal.send(request, view, error);
                    }
                });
    }

    /**
     * A client that asked for progress is accepted before its session is ready and told each step
     * of the start as a text frame, before any frame of its backend; a start that fails then ends
     * with the failure's close code instead of an HTTP status. Admission refused it before this.
     */
    private void acceptWithProgress(HttpServerRequest request, PublicView view, Arrival arrival) {
        long begun = System.nanoTime();
        accept(request, view, arrival).onComplete(accepted -> {
            if (accepted.failed()) {
                arrival.release(); // the client left during its own handshake
                return;
            }
            ServerWebSocket client = accepted.result().socket();
            client.closeHandler(v -> arrival.release());
            arrival.watchProgress(step -> client.writeTextMessage(progressFrame(step, begun)));
            arrival.ready().onComplete(ready -> {
                if (client.isClosed()) {
                    arrival.release();
                } else if (ready.succeeded()) {
                    client.writeTextMessage(progressFrame(new Progress(Progress.Phase.READY, 0), begun));
                    arrival.attach(accepted.result());
                } else {
                    arrival.release();
                    Failure failure = FailureException.wrap(ready.cause(), Failure.START_FAILED, "launch")
                            .failure();
                    Failure told = failure.closeCode() == 0
                            ? Failure.START_FAILED
                            : failure; // admission refused before the handshake
                    client.close((short) told.closeCode(), told.publicReason());
                }
            });
        });
    }

    /** {@code {"berth":"progress","phase":"queued","ahead":2,"ms":14}}: ms since the upgrade request. */
    private static String progressFrame(Progress step, long begunNanos) {
        JsonObject frame = new JsonObject()
                .put("berth", "progress")
                .put("phase", step.phase().name().toLowerCase(Locale.ROOT));
        if (step.phase() == Progress.Phase.QUEUED) {
            frame.put("ahead", step.ahead());
        }
        return frame.put("ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begunNanos))
                .encode();
    }

    private Future<AcceptedClient> accept(HttpServerRequest request, PublicView view, Arrival arrival) {
        String token = arrival.token();
        // One cookie per route (its path), so one route's token is never sent to another; Secure
        // whenever the client's page is https, also when a proxy in front terminates the TLS.
        Cookie cookie = Cookie.cookie(COOKIE, token)
                .setPath(route.path())
                .setHttpOnly(true)
                .setSecure(view.https())
                .setSameSite(CookieSameSite.LAX);
        request.response()
                .headers()
                .add(HttpHeaders.SET_COOKIE, cookie.encode())
                .add(SESSION_HEADER, token);
        return request.toWebSocket().map(client -> {
            // Before any frame is read, wherever its session's pipe lives.
            ProtocolErrorAnswer errors = ProtocolErrorAnswer.install(client, arrival::clientEnding);
            client.pause();
            return new AcceptedClient(client, errors, AcceptedClient.RESUME_SUBPROTOCOL.equals(client.subProtocol()));
        });
    }

    /** The client's side of the handshake failed (it reset or left): nothing to refuse, nothing to count. */
    private static final class ClientLeft extends RuntimeException {
        ClientLeft(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    private static boolean isUpgrade(HttpServerRequest request) {
        String upgrade = request.getHeader(HttpHeaders.UPGRADE);
        return upgrade != null && upgrade.equalsIgnoreCase("websocket");
    }
}
