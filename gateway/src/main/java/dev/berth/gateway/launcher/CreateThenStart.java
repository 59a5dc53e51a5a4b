package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The start of a backend on an engine: create it under its name, then start it and find where to
 * dial it. A backend created but not started is removed before the launch fails, so that no error
 * path leaks it; {@link TwoPhaseLaunch} does the same for one that starts but never gets ready.
 */
final class CreateThenStart {

    private CreateThenStart() {}

    /**
     * @param create creates the backend; its engine id
     * @param start starts the backend of that id; where to dial it once it runs
     * @param cannotCreate what the failure says when {@code create} fails
     */
    static Future<Backend> run(
            HeldBackends held,
            LaunchRequest request,
            String name,
            String cannotCreate,
            Supplier<Future<String>> create,
            Function<String, Future<SocketAddress>> start) {
        RouteConfig route = request.route();
        String key = request.pooled() ? null : request.sessionKey();
        return held.creating(name, create)
                .compose(
                        id -> {
                            Backend unready = held.handle(id, name, key, route.name(), route.version(), null);
                            return start.apply(id)
                                    .map(address -> held.handle(id, name, key, route.name(), route.version(), address))
                                    .recover(error -> unready.stop()
                                            .transform(removed -> EngineFailures.failed(
                                                    error, "cannot start " + unready.description())));
                        },
                        error -> EngineFailures.failed(error, cannotCreate));
    }
}
