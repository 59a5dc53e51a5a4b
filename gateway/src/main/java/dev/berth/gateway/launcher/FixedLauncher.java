package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Launches nothing: each new session is piped to the next of its route's running
 * {@code fixed.backends}, in turn, over a websocket of its own. Sessions share those backends, so
 * nothing is isolated; this is for measuring the data path on the very backends a direct client
 * or another proxy reaches (scripts/bench-proxy.sh), and for development against a backend run by
 * hand. A backend that is down is seen when the session dials it (502 unreachable). No engine
 * records these sessions: they end with the gateway. Event-loop only.
 */
final class FixedLauncher implements Launcher {

    private final Map<String, Integer> nextByRoute = new HashMap<>();

    @Override
    public String name() {
        return "fixed";
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        RouteConfig route = request.route();
        List<RouteConfig.Endpoint> backends = route.fixedBackends();
        int turn = nextByRoute.getOrDefault(route.name(), 0);
        nextByRoute.put(route.name(), (turn + 1) % backends.size());
        RouteConfig.Endpoint endpoint = backends.get(turn);
        request.progress().running();
        Promise<String> neverExits = Promise.promise(); // not ours: a dropped connection ends the session
        return Future.succeededFuture(new Backend(
                "fixed backend " + endpoint,
                request.sessionKey(),
                route.name(),
                route.version(),
                SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host()),
                neverExits.future(),
                Future::succeededFuture));
    }

    @Override
    public Future<List<Backend>> discover() {
        return Future.succeededFuture(List.of());
    }

    @Override
    public boolean backendsOutliveGateway() {
        return false;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
