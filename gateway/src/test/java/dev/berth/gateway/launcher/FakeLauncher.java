package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A launcher whose backends are websocket echo servers inside the test JVM: the many session
 * tests run in milliseconds, and each backend records what it saw, so a test can check what the
 * gateway forwarded. It keeps the launcher contract (ready before use, idempotent stop, exit
 * reported); the real engine is proven by the docker and process suites.
 *
 * <p>An echo backend sends {@code {"type":"hello","session":KEY,"version":V,"connection":N}} on every new
 * websocket and echoes every data frame as it came.
 */
public final class FakeLauncher implements Launcher {

    /** One in-process backend and what it saw. */
    public static final class EchoBackend {
        public final String sessionKey;
        /** Where its server and websockets live. */
        private final io.vertx.core.Context context;

        final String route;
        /** The route version it was launched as. */
        public final String version;

        public final AtomicInteger connections = new AtomicInteger();
        public final AtomicInteger framesReceived = new AtomicInteger();
        /** Added on the backend's loop, read by tests. */
        public final List<Short> closeCodes = new java.util.concurrent.CopyOnWriteArrayList<>();

        final Promise<String> exit = Promise.promise();
        /** Completed with the new holder when another gateway takes the session over. */
        final Promise<String> moved = Promise.promise();

        HttpServer server;
        ServerWebSocket current;
        boolean stopped;
        /** Launched for a warm pool: it greets no one until claimed, as the shipped handler does. */
        boolean pooled;
        /** The session a pooled backend was claimed for; the backend's loop only. */
        String claimedFor;

        EchoBackend(io.vertx.core.Context context, String sessionKey, String route, String version) {
            this.context = context;
            this.sessionKey = sessionKey;
            this.route = route;
            this.version = version;
        }

        /** Sends a text message to the gateway on the backend's current websocket. */
        public void push(String text) {
            current.writeTextMessage(text);
        }

        /**
         * Sends {@code count} text messages {@code "<prefix><i>"} padded to {@code size} bytes, as a
         * well-behaved app does: waiting whenever the gateway stops reading (its write queue is full).
         * Completes once all are written.
         */
        public Future<Void> pushMany(String prefix, int count, int size) {
            Promise<Void> done = Promise.promise();
            context.runOnContext(v -> pushFrom(prefix, 0, count, size, done));
            return done.future();
        }

        private void pushFrom(String prefix, int next, int count, int size, Promise<Void> done) {
            ServerWebSocket socket = current;
            for (int i = next; i < count; i++) {
                String head = prefix + i + " ";
                socket.writeTextMessage(head + "x".repeat(Math.max(0, size - head.length())));
                if (socket.writeQueueFull() && i + 1 < count) {
                    int resumeAt = i + 1;
                    socket.drainHandler(drained -> pushFrom(prefix, resumeAt, count, size, done));
                    return;
                }
            }
            done.complete();
        }

        /** Sends one text message of {@code fragments} frames of {@code size} bytes, at once, regardless of backpressure. */
        public void pushFragmented(int fragments, int size) {
            context.runOnContext(v -> {
                io.vertx.core.buffer.Buffer chunk = io.vertx.core.buffer.Buffer.buffer("a".repeat(size));
                for (int i = 0; i < fragments; i++) {
                    boolean last = i == fragments - 1;
                    current.writeFrame(
                            i == 0
                                    ? io.vertx.core.http.WebSocketFrame.textFrame(chunk.toString(), last)
                                    : io.vertx.core.http.WebSocketFrame.continuationFrame(chunk, last));
                }
            });
        }

        /** Stops reading the gateway for {@code pause}, as a busy app would; the gateway's writes back up. */
        public void stall(Duration pause) {
            context.runOnContext(v -> {
                ServerWebSocket socket = current;
                socket.pause();
                context.owner().setTimer(pause.toMillis(), id -> socket.resume());
            });
        }

        /** Writes one frame as it is, valid or not: a test of what the gateway lets through. */
        public void pushFrame(io.vertx.core.http.WebSocketFrame frame) {
            context.runOnContext(v -> current.writeFrame(frame));
        }

        /** Drops the gateway's websocket without a close frame (its TCP connection reset), the backend running on. */
        public void dropTcp() {
            // From the head of the pipeline: past Vert.x's own handlers, which would send a close frame first.
            context.runOnContext(v -> ((io.vertx.core.internal.http.WebSocketInternal) current)
                    .channelHandlerContext()
                    .channel()
                    .pipeline()
                    .firstContext()
                    .close());
        }

        /** Closes the gateway's websocket from the backend's side, the backend itself running on. */
        public void dropConnection() {
            context.runOnContext(v -> current.close((short) 1001, "going away"));
        }

        /** Dies as a crashed container would: the websocket drops and the exit is reported. */
        public void crash() {
            server.close();
            if (current != null) {
                current.close((short) 1011, "crash");
            }
            exit.tryComplete("crashed");
        }

        public boolean stopped() {
            return stopped;
        }
    }

    private final Vertx vertx;
    private final io.vertx.core.Context backendContext;
    private final Duration launchTime;
    private Duration handshakeTime = Duration.ZERO;
    private String launchFailure;
    private Failure launchFailureKind = Failure.START_FAILED;
    private boolean refusingWebsockets;
    /** The only version whose launches fail, or null: all of them. */
    private String failingVersion;

    private final Map<String, EchoBackend> backends = new ConcurrentHashMap<>();
    public final AtomicInteger launches = new AtomicInteger();
    /** Launches between their start and their process running, now and at most so far. */
    private final AtomicInteger starting = new AtomicInteger();

    private final AtomicInteger mostStarting = new AtomicInteger();
    /** Times a gateway asked to take a session over from another gateway (a look on the engine). */
    public final AtomicInteger takeOvers = new AtomicInteger();

    private final List<Backend> leftovers = new ArrayList<>();

    public FakeLauncher(Vertx vertx, Duration launchTime) {
        this.vertx = vertx;
        this.launchTime = launchTime;
        // Made outside any verticle: the backends' servers outlive a gateway undeployed with onShutdown keep.
        this.backendContext = vertx.getOrCreateContext();
    }

    @Override
    public String name() {
        return "fake";
    }

    /** Backends launched from now on accept each websocket only after {@code delay}, as a busy app would. */
    public FakeLauncher slowHandshakes(Duration delay) {
        this.handshakeTime = delay;
        return this;
    }

    /** Launches from now on fail after the launch time, as a backend that cannot start would. */
    public FakeLauncher failingLaunches(String why) {
        this.launchFailure = why;
        return this;
    }

    /** Launches from now on fail with {@code failure}, as a launcher that can tell (engine away, queue full) says. */
    public FakeLauncher failingLaunches(Failure failure, String why) {
        this.launchFailure = why;
        this.launchFailureKind = failure;
        return this;
    }

    /** Backends launched from now on answer every websocket upgrade 404, as an app without a websocket would. */
    public FakeLauncher refusingWebsockets() {
        this.refusingWebsockets = true;
        return this;
    }

    /** Stops a backend this gateway let go of (another gateway holds it), as its new holder would. */
    public void stopElsewhere(String sessionKey) {
        EchoBackend echo = backends.get(sessionKey);
        echo.stopped = true;
        backendContext.runOnContext(v -> echo.server.close());
    }

    /** Tells the gateway that another gateway took the session over (as a rename seen on the engine would). */
    public void moveAway(String sessionKey, String holder) {
        backendContext.runOnContext(v -> backends.get(sessionKey).moved.tryComplete(holder));
    }

    /** Launches of {@code version} from now on fail after the launch time; other versions start. */
    public FakeLauncher failingLaunchesOf(String version, String why) {
        this.failingVersion = version;
        this.launchFailure = why;
        return this;
    }

    /** Every backend launched so far. */
    public List<EchoBackend> backends() {
        return List.copyOf(backends.values());
    }

    public EchoBackend backend(String sessionKey) {
        return backends.get(sessionKey);
    }

    /** The most launches that were starting at the same time, so far. */
    public int mostStartingAtOnce() {
        return mostStarting.get();
    }

    public int running() {
        return (int)
                backends.values().stream().filter(backend -> !backend.stopped).count();
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        launches.incrementAndGet();
        mostStarting.accumulateAndGet(starting.incrementAndGet(), Math::max);
        EchoBackend echo = new EchoBackend(
                backendContext,
                request.sessionKey(),
                request.route().name(),
                request.route().version());
        echo.pooled = request.pooled();
        backends.put(request.sessionKey(), echo);
        // Told as a real launch tells them (TwoPhaseLaunch): the process starts, then its app.
        request.progress().starting();
        Promise<Void> waited = Promise.promise();
        vertx.setTimer(Math.max(1, launchTime.toMillis()), id -> {
            starting.decrementAndGet();
            if (launchFailure != null && (failingVersion == null || failingVersion.equals(echo.version))) {
                echo.stopped = true;
                waited.fail(new FailureException(launchFailureKind, launchFailure));
                return;
            }
            request.progress().running();
            waited.complete();
        });
        return waited.future()
                .compose(v -> dev.berth.gateway.loops.EventLoops.call(
                        backendContext,
                        () -> vertx.createHttpServer(new HttpServerOptions()
                                        .setHost("127.0.0.1")
                                        .setPort(0)
                                        .setMaxWebSocketFrameSize(16 << 20)
                                        .setMaxWebSocketMessageSize(16 << 20))
                                .requestHandler(upgrade -> {
                                    if (refusingWebsockets) {
                                        upgrade.response().setStatusCode(404).end();
                                        return;
                                    }
                                    upgrade.pause();
                                    vertx.setTimer(
                                            Math.max(1, handshakeTime.toMillis()),
                                            id -> upgrade.toWebSocket().onSuccess(socket -> serve(echo, socket)));
                                })
                                .listen()))
                .map(server -> {
                    echo.server = server;
                    return handle(echo);
                })
                .recover(error ->
                        Future.failedFuture(FailureException.wrap(error, Failure.START_FAILED, "fake launch")));
    }

    private Backend handle(EchoBackend echo) {
        return new Backend(
                "echo backend of " + echo.sessionKey,
                echo.sessionKey,
                echo.sessionKey,
                echo.route,
                echo.version,
                SocketAddress.inetSocketAddress(echo.server.actualPort(), "127.0.0.1"),
                echo.exit.future(),
                echo.moved.future(),
                () -> {
                    echo.stopped = true;
                    echo.exit.tryComplete("stopped");
                    return echo.server.close();
                },
                () -> {});
    }

    /**
     * Echoes, after a hello. A pooled backend follows the shipped handler's pool protocol: until it
     * is claimed it greets no one and takes a {@code {"cmd":"claim","session":KEY}} as the first
     * frame (answered with KEY's hello; any other claim is closed with 1008); once claimed, it greets
     * every new connection at once.
     */
    private void serve(EchoBackend echo, ServerWebSocket socket) {
        echo.current = socket;
        int number = echo.connections.incrementAndGet();
        socket.closeHandler(v -> echo.closeCodes.add(socket.closeStatusCode()));
        boolean[] awaitingClaim = {echo.pooled};
        socket.frameHandler(frame -> {
            if (awaitingClaim[0] && frame.isText()) {
                awaitingClaim[0] = false;
                String key = new JsonObject(frame.textData()).getString("session");
                if (echo.claimedFor == null) {
                    echo.claimedFor = key;
                }
                if (echo.claimedFor.equals(key)) {
                    greet(echo, socket, number);
                } else {
                    socket.close((short) 1008, "already claimed for another session");
                }
            } else if (frame.isText() || frame.isBinary() || frame.isContinuation()) {
                echo.framesReceived.incrementAndGet();
                socket.writeFrame(frame);
            }
        });
        if (!echo.pooled || echo.claimedFor != null) {
            awaitingClaim[0] = false;
            greet(echo, socket, number);
        }
    }

    private static void greet(EchoBackend echo, ServerWebSocket socket, int number) {
        String session = echo.claimedFor != null ? echo.claimedFor : echo.sessionKey;
        socket.writeTextMessage(new JsonObject()
                .put("type", "hello")
                .put("session", session)
                .put("version", echo.version)
                .put("connection", number)
                .encode());
    }

    /** Nothing to record a claim on: the handle only learns its session. */
    @Override
    public Future<Backend> claim(Backend pooled, String sessionKey) {
        return Future.succeededFuture(pooled.claimedBy(sessionKey, pooled.description(), pooled.reference));
    }

    /** Makes the next {@link #discover} find this backend, as if an earlier gateway had left it running. */
    public void leaveRunning(Backend backend) {
        leftovers.add(backend);
    }

    /** Makes the next {@link #discover} find every backend still running, as a restarted gateway finds its containers. */
    public void leaveAllRunning() {
        backends.values().stream()
                .filter(backend -> !backend.stopped)
                .map(this::handle)
                .forEach(leftovers::add);
    }

    /**
     * Makes the next {@link #discover} find a second backend for session {@code sessionKey}, as a
     * launch that went wrong could leave; the returned future completes when it is stopped.
     */
    public Future<Void> leaveDuplicateOf(String sessionKey) {
        EchoBackend original = backends.get(sessionKey);
        Promise<Void> stopped = Promise.promise();
        leftovers.add(new Backend(
                "duplicate echo backend of " + sessionKey,
                "duplicate-" + sessionKey,
                sessionKey,
                original.route,
                original.version,
                SocketAddress.inetSocketAddress(1, "127.0.0.1"),
                Promise.<String>promise().future(),
                Promise.<String>promise().future(),
                () -> {
                    stopped.tryComplete();
                    return Future.succeededFuture();
                },
                () -> {}));
        return stopped.future();
    }

    /** How many times the gateway looked on the "engine". */
    public final AtomicInteger discoveries = new AtomicInteger();

    @Override
    public Future<List<Backend>> discover() {
        discoveries.incrementAndGet();
        List<Backend> found = List.copyOf(leftovers);
        leftovers.clear();
        return Future.succeededFuture(found);
    }

    /** No other gateway shares these backends: nothing to take over, found at once. */
    @Override
    public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
        takeOvers.incrementAndGet();
        return Future.succeededFuture();
    }

    @Override
    public boolean backendsOutliveGateway() {
        return true;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
