package dev.berth.gateway.edge;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchException;
import dev.berth.gateway.launcher.LaunchFailure;
import dev.berth.gateway.session.Session;
import dev.berth.gateway.session.SessionRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.ext.web.RoutingContext;
import java.util.logging.Logger;

/**
 * The life of a websocket upgrade on a route, upstream first: find the client's session (or open
 * one), have its backend launched and ready, connect to it, and only then accept the client's
 * handshake and start the pipe. Anything that fails before the handshake is answered with an HTTP
 * status; nothing after it is, since by then the client has a websocket and gets close codes.
 */
final class SessionWebSocketHandler implements Handler<RoutingContext> {

  static final String COOKIE = "berth_session";
  static final String SESSION_HEADER = "Berth-Session";
  private static final long UPSTREAM_CONNECT_TIMEOUT_MS = 5000;
  private static final Logger LOG = Logger.getLogger(SessionWebSocketHandler.class.getName());

  private final RouteConfig route;
  private final SessionRegistry registry;
  private final WebSocketClient upstream;

  SessionWebSocketHandler(RouteConfig route, SessionRegistry registry, WebSocketClient upstream) {
    this.route = route;
    this.registry = registry;
    this.upstream = upstream;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (!isUpgrade(request)) {
      HandshakeRefusal.send(request, 426, "this is a websocket endpoint: connect with a websocket client");
      return;
    }
    // Held until the handshake is accepted: the upgrade completes only once we have a backend.
    request.pause();
    Session session;
    try {
      Cookie presented = request.getCookie(COOKIE);
      session = registry.find(presented == null ? null : presented.getValue(), route)
          .orElseGet(() -> registry.open(route));
    } catch (LaunchException full) {
      HandshakeRefusal.send(request, full);
      return;
    }
    session.backend()
        .compose(backend -> connect(backend, request))
        .compose(backendSocket -> accept(request, session, backendSocket))
        .onFailure(error -> {
          HandshakeRefusal.send(request, error);
          session.awaitReconnect();
        });
  }

  private Future<WebSocket> connect(Backend backend, HttpServerRequest request) {
    WebSocketConnectOptions options = new WebSocketConnectOptions()
        .setServer(backend.address())
        .setHost(backend.address().host())
        .setPort(backend.address().port())
        .setURI(request.uri())
        .setConnectTimeout(UPSTREAM_CONNECT_TIMEOUT_MS)
        .addHeader("X-Forwarded-For", request.remoteAddress().hostAddress());
    return upstream.connect(options)
        .onSuccess(WebSocket::pause) // until the client's side is accepted and the pipe is set up
        .recover(error -> Future.failedFuture(new LaunchException(LaunchFailure.UNREACHABLE,
            backend.description() + " refused the websocket: " + error.getMessage(), error)));
  }

  private Future<Void> accept(HttpServerRequest request, Session session, WebSocket backendSocket) {
    String token = session.id().token();
    Cookie cookie = Cookie.cookie(COOKIE, token).setPath("/").setHttpOnly(true).setSameSite(CookieSameSite.LAX);
    request.response().headers()
        .add(HttpHeaders.SET_COOKIE, cookie.encode())
        .add(SESSION_HEADER, token);
    return request.toWebSocket()
        .onSuccess(client -> {
          client.pause();
          session.attach(client, backendSocket);
          LOG.info(session + ": client " + request.remoteAddress() + " attached");
        })
        .onFailure(error -> backendSocket.close())
        .mapEmpty();
  }

  private static boolean isUpgrade(HttpServerRequest request) {
    String upgrade = request.getHeader(HttpHeaders.UPGRADE);
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }
}
