package dev.berth.gateway.edge;

import dev.berth.gateway.config.ListenConfig;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Holds every client connection to the edge's limits before any request is routed: a connection
 * that has not sent a whole request within {@code listen.handshakeTimeout} is closed (a slow
 * client cannot hold a socket), and past {@code listen.maxConnections} a request is answered 503
 * and its connection closed. Shared by the edge's loops.
 */
final class ConnectionGuard {

  private static final Logger LOG = Logger.getLogger(ConnectionGuard.class.getName());

  private final Vertx vertx;
  private final ListenConfig listen;
  /** Handshake deadline timers of connections that have not sent a request yet. */
  private final Map<HttpConnection, Long> awaitingRequest = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();

  ConnectionGuard(Vertx vertx, ListenConfig listen) {
    this.vertx = vertx;
    this.listen = listen;
  }

  /** For {@code HttpServer.connectionHandler}. */
  void connected(HttpConnection connection) {
    open.incrementAndGet();
    long deadline = listen.handshakeTimeout().toMillis();
    awaitingRequest.put(connection, vertx.setTimer(deadline, id -> {
      if (awaitingRequest.remove(connection) != null) {
        LOG.info("closing a connection from " + connection.remoteAddress() + " that sent no whole request within "
            + deadline + "ms (listen.handshakeTimeout)");
        connection.close();
      }
    }));
    connection.closeHandler(v -> {
      open.decrementAndGet();
      Long timer = awaitingRequest.remove(connection);
      if (timer != null) {
        vertx.cancelTimer(timer);
      }
    });
  }

  /** Wraps the request handler: the deadline is met, and a connection over the limit is refused. */
  Handler<HttpServerRequest> guarding(Handler<HttpServerRequest> next) {
    return request -> {
      Long timer = awaitingRequest.remove(request.connection());
      if (timer != null) {
        vertx.cancelTimer(timer);
      }
      if (open.get() > listen.maxConnections()) {
        request.response().setStatusCode(503).putHeader("Retry-After", "5").putHeader("Connection", "close")
            .putHeader("Content-Type", "text/plain; charset=utf-8")
            .end("too_many_connections: the gateway holds its maximum number of connections\n");
        return;
      }
      next.handle(request);
    };
  }
}
