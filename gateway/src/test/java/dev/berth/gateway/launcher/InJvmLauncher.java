package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.handler.HandlerConfig;
import dev.berth.handler.HandlerLog;
import dev.berth.handler.HandlerServer;
import dev.berth.handler.SessionState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shipped session handler, run inside the test JVM: each session a real {@link HandlerServer}
 * on a loopback port of its own, with the environment a container would get, so the session
 * contract (edge, registry, pipe, resume, the handler's own protocol) is proven in seconds without
 * a container or a child JVM. What only an engine can show (isolation, limits, adoption after a
 * restart, exit detection) stays with the docker, process and swarm suites.
 *
 * <p>Its handlers cannot outlive the test JVM's gateway and are not found again; a "kill" drops
 * every connection without a close handshake, as a crashed process would.
 */
public final class InJvmLauncher implements Launcher {

    /** One handler and how it ends. */
    public static final class Handler {
        final String route;
        final String sessionKey;
        final HandlerServer server;
        final int port;
        final Promise<String> exit = Promise.promise();

        Handler(String route, String sessionKey, HandlerServer server, int port) {
            this.route = route;
            this.sessionKey = sessionKey;
            this.server = server;
            this.port = port;
        }

        public boolean running() {
            return !exit.future().isComplete();
        }
    }

    private final Vertx vertx;
    private final Context context;
    private final TwoPhaseLaunch launches;
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
    private volatile long startDelayMs;
    private volatile boolean exitBeforeReady;

    public InJvmLauncher(Vertx vertx) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.launches = new TwoPhaseLaunch(vertx);
    }

    /** Handlers launched from now on take this long to start, as a slow engine would. */
    public InJvmLauncher slowStart(java.time.Duration delay) {
        this.startDelayMs = delay.toMillis();
        return this;
    }

    /** Handlers launched from now on exit as soon as they run, before they ever answer {@code GET /ready}. */
    public InJvmLauncher exitingBeforeReady() {
        this.exitBeforeReady = true;
        return this;
    }

    @Override
    public String name() {
        return "in-jvm";
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        return launches.run(
                request,
                () -> vertx.executeBlocking(() -> start(request), false)
                        .map(handler -> backendOf(handler, request))
                        .recover(error -> Future.failedFuture(
                                FailureException.wrap(error, Failure.START_FAILED, "in-JVM handler"))));
    }

    private Handler start(LaunchRequest request) throws Exception {
        Thread.sleep(startDelayMs);
        Map<String, String> env = HandlerEnvironment.of(request, 0)
                .with("BERTH_HOST", "127.0.0.1")
                .variables();
        String key = request.sessionKey();
        Handler[] made = new Handler[1];
        HandlerServer server = serve(env, "in-jvm-" + key, () -> exited(made[0], "idle exit"));
        made[0] = new Handler(request.route().name(), key, server, server.actualPort());
        handlers.put(key, made[0]);
        if (exitBeforeReady) {
            server.stop();
            exited(made[0], "exited at once");
        }
        return made[0];
    }

    /**
     * Starts the shipped handler on the environment a container would get ({@code BERTH_HOST} and
     * {@code BERTH_PORT} included: port 0 picks a free one, {@link HandlerServer#actualPort()} says
     * which); {@code idleExit} runs when it exits by itself.
     */
    static HandlerServer serve(Map<String, String> env, String name, Runnable idleExit) throws Exception {
        HandlerConfig config = HandlerConfig.fromEnv(env);
        HandlerServer server = new HandlerServer(
                config,
                SessionState.of(config),
                name,
                new HandlerLog(config.session() == null ? "pool" : config.session()),
                idleExit);
        server.start();
        return server;
    }

    private Backend backendOf(Handler handler, LaunchRequest request) {
        String key = request.pooled() ? null : handler.sessionKey;
        return new Backend(
                "in-JVM handler " + handler.sessionKey + " on port " + handler.port,
                key,
                request.route().name(),
                request.route().version(),
                SocketAddress.inetSocketAddress(handler.port, "127.0.0.1"),
                handler.exit.future(),
                () -> stop(handler));
    }

    /** As the handler's SIGTERM does: every websocket closed with 1001, then the server stopped. */
    private Future<Void> stop(Handler handler) {
        return vertx.executeBlocking(
                        () -> {
                            handler.server.closeAll(1001, "session over", 2000);
                            handler.server.stop();
                            return null;
                        },
                        false)
                .onComplete(done -> exited(handler, "stopped"))
                .mapEmpty();
    }

    private void exited(Handler handler, String why) {
        context.runOnContext(v -> handler.exit.tryComplete("in-JVM handler " + why));
    }

    /** Crashes the session's handler: every connection dropped, no close frame; its exit is reported. */
    public void kill(String sessionKey) {
        Handler handler = handlers.get(sessionKey);
        if (handler != null) {
            handler.server.stop();
            exited(handler, "killed");
        }
    }

    /** The handlers of {@code route} still running, of one session when {@code sessionKey} is not null. */
    public List<Handler> running(String route, String sessionKey) {
        return handlers.values().stream()
                .filter(Handler::running)
                .filter(handler -> handler.route.equals(route))
                .filter(handler -> sessionKey == null || sessionKey.equals(handler.sessionKey))
                .toList();
    }

    /** Where the gateway dials the session's handler. */
    public String address(String sessionKey) {
        return "127.0.0.1:" + handlers.get(sessionKey).port;
    }

    /** Stops every handler of {@code route} left running; returns how many were. */
    public int removeAll(String route) {
        List<Handler> left = running(route, null);
        for (Handler handler : left) {
            handler.server.stop();
            handler.exit.tryComplete("removed after the test");
        }
        return left.size();
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
        return launches.close();
    }
}
