package dev.berth.gateway.edge;

import dev.berth.gateway.config.ListenConfig;
import dev.berth.gateway.failure.Failure;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Holds every client connection to the edge's limits before any request is routed. A connection
 * that has not sent a whole request within {@code listen.handshakeTimeout} (of its opening, or of
 * its previous answer) is closed, so neither a slow first request nor keep-alive requests trickled
 * one by one can hold a socket. Past {@code listen.maxConnections} open connections, or past
 * {@code listen.maxConnectionsPerClient} from one address, a request is refused and its connection
 * closed. A trusted proxy's connections (listen.trustedProxies) each carry a client of its own and
 * count toward the total only; its clients are held to their limits by the sessions they open.
 * Shared by the edge's loops.
 *
 * <p>A connection is counted from its opening to the close of its socket, whatever it became:
 * Vert.x stops calling an HTTP connection's close handler once it was upgraded to a websocket, so
 * the count follows the channel itself.
 */
final class ConnectionGuard {

    private static final Logger LOG = Logger.getLogger(ConnectionGuard.class.getName());

    private final Vertx vertx;
    private final ListenConfig listen;
    private final ConnectionMeter meter;
    private final TrustedProxies proxies;
    private final RefusalLog refusals = new RefusalLog(LOG);
    /** Deadline timers of connections expected to send a request. */
    private final Map<HttpConnection, Long> awaitingRequest = new ConcurrentHashMap<>();

    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Integer> openByClient = new ConcurrentHashMap<>();

    ConnectionGuard(Vertx vertx, ListenConfig listen, ConnectionMeter meter, TrustedProxies proxies) {
        this.vertx = vertx;
        this.listen = listen;
        this.meter = meter;
        this.proxies = proxies;
        meter.connectionsOpen(open::get);
    }

    /** For {@code HttpServer.connectionHandler}. */
    void connected(HttpConnection connection) {
        String client = proxies.clientOf(connection); // null: a trusted proxy's, many clients in one
        open.incrementAndGet();
        if (client != null) {
            openByClient.merge(client, 1, Integer::sum);
        }
        awaitRequest(connection);
        channel(connection).closeFuture().addListener(closed -> {
            open.decrementAndGet();
            if (client != null) {
                openByClient.computeIfPresent(client, (address, count) -> count > 1 ? count - 1 : null);
            }
            cancelDeadline(connection);
        });
    }

    /** Open client connections now, for tests and the health view. */
    int open() {
        return open.get();
    }

    /** Wraps the request handler: the deadline is met, and a connection over a limit is refused. */
    Handler<HttpServerRequest> guarding(Handler<HttpServerRequest> next) {
        return request -> {
            HttpConnection connection = request.connection();
            cancelDeadline(connection);
            // An answer that completes leaves the connection waiting for its next request, on the clock.
            request.response().endHandler(ended -> awaitRequest(connection));
            String client = proxies.clientOf(connection);
            if (open.get() > listen.maxConnections()) {
                refuse(
                        request,
                        Failure.TOO_MANY_CONNECTIONS,
                        open.get() + " connections open (listen.maxConnections: " + listen.maxConnections() + ")");
            } else if (client != null && openByClient.getOrDefault(client, 0) > listen.maxConnectionsPerClient()) {
                refuse(
                        request,
                        Failure.CLIENT_CONNECTION_LIMIT,
                        client + " holds " + openByClient.getOrDefault(client, 0)
                                + " connections (listen.maxConnectionsPerClient: " + listen.maxConnectionsPerClient()
                                + ")");
            } else {
                next.handle(request);
            }
        };
    }

    private void refuse(HttpServerRequest request, Failure failure, String detail) {
        meter.connectionRefused(failure);
        refusals.log(
                failure,
                "refused a request for " + request.path() + " from " + request.remoteAddress() + " with "
                        + failure.httpStatus() + " " + failure.tag() + ": " + detail);
        request.response().putHeader("Connection", "close");
        HandshakeRefusal.answer(request.response(), failure);
    }

    private void awaitRequest(HttpConnection connection) {
        if (upgraded(connection)) {
            return; // a websocket now: kept alive by its pings, not by requests
        }
        long deadline = listen.handshakeTimeout().toMillis();
        Long previous = awaitingRequest.put(connection, vertx.setTimer(deadline, id -> {
            if (awaitingRequest.remove(connection, id) && !upgraded(connection)) {
                LOG.fine(() -> "closing a connection from " + connection.remoteAddress()
                        + " that sent no whole request within " + deadline + "ms (listen.handshakeTimeout)");
                connection.close();
            }
        }));
        if (previous != null) {
            vertx.cancelTimer(previous);
        }
    }

    private void cancelDeadline(HttpConnection connection) {
        Long timer = awaitingRequest.remove(connection);
        if (timer != null) {
            vertx.cancelTimer(timer);
        }
    }

    private static Channel channel(HttpConnection connection) {
        return ((ConnectionBase) connection).channel();
    }

    /** Whether the connection's socket carries a websocket now (its pipeline decodes frames, not requests). */
    private static boolean upgraded(HttpConnection connection) {
        return channel(connection).pipeline().get(WebSocketFrameDecoder.class) != null;
    }
}
