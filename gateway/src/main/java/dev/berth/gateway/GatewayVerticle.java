package dev.berth.gateway;

import dev.berth.gateway.admin.AdminApi;
import dev.berth.gateway.config.AdminConfig;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigReloader;
import dev.berth.gateway.config.ListenConfig;
import dev.berth.gateway.config.SessionsConfig;
import dev.berth.gateway.edge.EdgeRouter;
import dev.berth.gateway.launcher.LaunchGate;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.launcher.LauncherFactory;
import dev.berth.gateway.launcher.MeteredLauncher;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.metrics.GatewayMetrics;
import dev.berth.gateway.pipe.AcceptedClient;
import dev.berth.gateway.pipe.BackendDialer;
import dev.berth.gateway.session.Canaries;
import dev.berth.gateway.session.SessionServices;
import dev.berth.gateway.session.SessionSnapshot;
import dev.berth.gateway.session.SessionTokens;
import dev.berth.gateway.session.Sessions;
import dev.berth.gateway.session.TokenSecret;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Wires the gateway together and owns its lifecycle: launcher, session registry, the upstream
 * websocket client and the edge server. It holds no logic of its own. At start, the sessions
 * the engine still runs are adopted before the edge listens, so no returning client can miss
 * its session; at stop, sessions are kept or ended as {@code sessions.onShutdown} says. Its own
 * loop is the control loop; the edge listens on each of the data loops ({@code listen.eventLoops}).
 */
public final class GatewayVerticle extends VerticleBase {

    private static final Logger LOG = Logger.getLogger(GatewayVerticle.class.getName());
    /** Vert.x shares a negative port's random port among the servers that name it: one per gateway. */
    private static final AtomicInteger SHARED_RANDOM_PORT = new AtomicInteger();

    private static final long DRAIN_CHECK_MS = 100;
    private static final long VERSION_GAUGES_MS = 1000;

    private final BerthConfig config;
    private final LauncherFactory.Source launchers;
    private GatewayMetrics metrics;
    private Launcher launcher;
    private Sessions registry;
    // Held for the gateway's lifetime: an unreachable client is closed by a Cleaner.
    private WebSocketClient upstream;
    private final List<HttpServer> servers = new ArrayList<>();
    private HttpServer admin;
    private EdgeRouter edge;
    private ConfigReloader reloader;
    private long versionGauges = -1;
    /** Completes when a graceful shutdown's drain is over (no client attached, or its deadline). */
    private final Promise<Void> drained = Promise.promise();

    public GatewayVerticle(BerthConfig config) {
        this(config, LauncherFactory::create);
    }

    public GatewayVerticle(BerthConfig config, LauncherFactory.Source launchers) {
        this.config = config;
        this.launchers = launchers;
    }

    @Override
    public Future<?> start() {
        ListenConfig listen = config.listen();
        int maxFrame = listen.maxFrameBytes();
        // One backend websocket per session or pool entry; the client's own default (50 per host and
        // port) would queue the 51st session forever when backends share an address (launcher: fixed).
        int backendSockets = config.sessions().maxSessions()
                + config.routes().stream().mapToInt(route -> route.pool().max()).sum();
        upstream = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setMaxConnections(backendSockets)
                .setMaxFrameSize(maxFrame)
                .setMaxMessageSize(listen.maxMessageBytes())
                .setTryUsePerMessageCompression(false)
                .setTryUsePerFrameCompression(false));
        metrics = new GatewayMetrics(config.routes(), () -> registry == null ? 0 : registry.size());
        long begun = System.nanoTime();
        SessionsConfig sessions = config.sessions();
        EventLoops loops = EventLoops.create(context, listen.eventLoops());
        return vertx.executeBlocking(() -> TokenSecret.loadOrCreate(sessions.tokenSecretFile()), false)
                .recover(error -> Future.failedFuture(new IllegalStateException(
                        "cannot read or create the token secret " + sessions.tokenSecretFile()
                                + " (sessions.tokenSecretFile): " + error.getMessage(),
                        error)))
                .compose(secret -> launchers.create(vertx, config, metrics).map(chosen -> {
                    LaunchGate gate = new LaunchGate(chosen, sessions.maxConcurrentLaunches(), sessions.launchQueue());
                    launcher = new MeteredLauncher(gate, metrics);
                    metrics.engine(launcher::engineStatus);
                    registry = new Sessions(
                            config,
                            new SessionServices(
                                    vertx,
                                    context,
                                    loops,
                                    launcher,
                                    gate,
                                    new BackendDialer(upstream),
                                    metrics,
                                    metrics,
                                    new SessionTokens(secret, Clock.systemUTC()),
                                    new Canaries(),
                                    maxFrame,
                                    listen.maxMessageBytes()));
                    return registry;
                }))
                .compose(ready -> registry.discover())
                .compose(adopted -> {
                    if (adopted > 0) {
                        LOG.info("adopted " + adopted + " running session(s) from the engine in "
                                + (System.nanoTime() - begun) / 1_000_000
                                + "ms; their clients get them back by reconnecting");
                    }
                    registry.startReaping();
                    registry.fillPools();
                    reloader = new ConfigReloader(vertx, context, config, this::apply, metrics);
                    versionGauges = vertx.setPeriodic(
                            VERSION_GAUGES_MS, id -> registry.versions().onSuccess(metrics::versions));
                    edge = new EdgeRouter(
                            vertx,
                            config,
                            registry,
                            metrics,
                            metrics,
                            config.admin().metrics() ? null : metrics.page(),
                            launcher.name());
                    return edge.start().compose(keys -> listenOn(loops, edge));
                })
                .compose(listening -> listenForAdmin())
                .onSuccess(listening -> reloader.watchFile())
                .onSuccess(listening ->
                        LOG.info("Berth gateway listening on " + (listen.tls() == null ? "http" : "https") + "://"
                                + listen.host() + ":" + port() + "/ on " + servers.size() + " event loop(s) (launcher "
                                + launcher.name()
                                + ", config " + config.source() + ")"))
                .recover(error -> stop().transform(stopped -> Future.failedFuture(error)));
    }

    /**
     * One server per data loop, all on the same port: the kernel's accepted connections are dealt to
     * them in turn, and each connection stays on its loop.
     */
    private Future<Void> listenOn(EventLoops loops, EdgeRouter edge) {
        HttpServerOptions options = serverOptions(config.listen());
        if (options.getPort() == 0) {
            options.setPort(-1 - SHARED_RANDOM_PORT.getAndIncrement() % 10_000);
        }
        List<Future<HttpServer>> listening = new ArrayList<>();
        for (var loop : loops.all()) {
            listening.add(EventLoops.call(loop, () -> {
                EdgeRouter.Handlers handlers = edge.handlers();
                return vertx.createHttpServer(options)
                        .connectionHandler(handlers.connections())
                        .requestHandler(handlers.requests())
                        .listen();
            }));
        }
        return Future.join(listening).transform(all -> {
            listening.stream().filter(Future::succeeded).map(Future::result).forEach(servers::add);
            return all.succeeded() ? Future.<Void>succeededFuture() : Future.<Void>failedFuture(all.cause());
        });
    }

    private static HttpServerOptions serverOptions(ListenConfig listen) {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(listen.host())
                .setPort(listen.port())
                .setMaxHeaderSize(listen.maxHeaderBytes())
                .setHttp2ClearTextEnabled(
                        false) // websockets are HTTP/1.1; and a connection is seen from its first byte
                .setIdleTimeout((int) listen.idleTimeout().toMillis())
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setMaxWebSocketFrameSize(listen.maxFrameBytes())
                .setMaxWebSocketMessageSize(listen.maxMessageBytes())
                .setWebSocketSubProtocols(List.of(AcceptedClient.RESUME_SUBPROTOCOL))
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false)
                // Every response is written from its connection's own loop, so the connection needs no
                // queue for writes from other threads: 4.6 KiB less per session (docs/benchmarks.md).
                .setStrictThreadMode(true)
                .setUseProxyProtocol(listen.proxyProtocol())
                .setProxyProtocolTimeout(listen.handshakeTimeout().toMillis())
                .setProxyProtocolTimeoutUnit(TimeUnit.MILLISECONDS);
        return withTls(options, listen.tls());
    }

    private static HttpServerOptions withTls(HttpServerOptions options, ListenConfig.Tls tls) {
        return tls == null
                ? options
                : options.setSsl(true)
                        .setKeyCertOptions(new PemKeyCertOptions()
                                .setCertPath(tls.certificate().toString())
                                .setKeyPath(tls.key().toString()));
    }

    /**
     * The admin API on its own listener, behind the bearer tokens in {@code admin.tokenFile} and
     * {@code admin.readOnlyTokenFile} (made on first start), over TLS with {@code admin.tls}.
     */
    private Future<Void> listenForAdmin() {
        AdminConfig conf = config.admin();
        return vertx.executeBlocking(
                        () -> new String[] {
                            adminToken(conf.tokenFile(), "admin.tokenFile"),
                            adminToken(conf.readOnlyTokenFile(), "admin.readOnlyTokenFile")
                        },
                        false)
                .compose(tokens -> vertx.createHttpServer(withTls(
                                new HttpServerOptions().setHost(conf.host()).setPort(conf.port()), conf.tls()))
                        .requestHandler(AdminApi.router(
                                vertx,
                                reloader,
                                new AdminApi.Tokens(tokens[0], tokens[1]),
                                registry,
                                conf.metrics() ? metrics.page() : null))
                        .listen()
                        .recover(error -> Future.failedFuture(new IllegalStateException(
                                "cannot listen for the admin API on "
                                        + conf.host() + ":" + conf.port() + " (admin.host, admin.port): "
                                        + error.getMessage()
                                        + ". Fix: free the port or choose another",
                                error))))
                .map(server -> {
                    admin = server;
                    LOG.info("admin API on " + (conf.tls() == null ? "http" : "https") + "://" + conf.host() + ":"
                            + server.actualPort() + "/ (bearer tokens in " + conf.tokenFile() + " and, read-only, "
                            + conf.readOnlyTokenFile() + (conf.metrics() ? "; /metrics is served there" : "") + ")");
                    return null;
                });
    }

    private static String adminToken(java.nio.file.Path file, String key) {
        try {
            return Base64.getEncoder().encodeToString(TokenSecret.loadOrCreate(file));
        } catch (java.io.IOException | RuntimeException error) {
            throw new IllegalStateException(
                    "cannot read or create the admin token " + file + " (" + key + "): " + error.getMessage(), error);
        }
    }

    /**
     * Begins a graceful shutdown (SIGTERM): readiness turns 503 and every new connection is refused
     * with 503 and Retry-After at once, so a load balancer sends clients elsewhere, while attached
     * clients keep their pipes. Completes when none is attached, at {@code sessions.drainDeadline},
     * or at {@link #endDrain}; stopping the verticle then tells them to reconnect and keeps (or
     * ends) the sessions as {@code sessions.onShutdown} says.
     */
    public Future<Void> drain() {
        return EventLoops.call(context, () -> {
            if (registry == null) {
                drained.tryComplete();
            } else {
                registry.drain();
                long deadlineMs = config.sessions().drainDeadline().toMillis();
                LOG.info("draining: not ready, new connections get 503; " + registry.attached()
                        + " attached client(s) keep" + " their pipes for up to " + deadlineMs
                        + "ms (sessions.drainDeadline)");
                awaitDrained(System.nanoTime() + deadlineMs * 1_000_000);
            }
            return drained.future();
        });
    }

    /** Ends a drain now (a second signal): attached clients are told to reconnect at once. */
    public void endDrain() {
        drained.tryComplete();
    }

    private void awaitDrained(long deadlineNanos) {
        if (drained.future().isComplete()) {
            return;
        }
        int attached = registry.attached();
        if (attached == 0 || System.nanoTime() - deadlineNanos >= 0) {
            LOG.info(
                    attached == 0
                            ? "drained: no client attached any more"
                            : "drain deadline reached with " + attached
                                    + " client(s) attached: they are told to reconnect");
            drained.tryComplete();
            return;
        }
        vertx.setTimer(DRAIN_CHECK_MS, id -> awaitDrained(deadlineNanos));
    }

    /**
     * Reloads the config file (SIGHUP; the file watch and the admin API call the reloader directly).
     * Completes with the config in force, or fails with why the file was rejected.
     */
    public Future<BerthConfig> reload(String trigger) {
        return reloader == null
                ? Future.failedFuture(new IllegalStateException("the gateway is not started"))
                : reloader.reload(trigger);
    }

    /**
     * Swaps a validated config in: the launcher readies every version it runs (an image that is
     * missing rejects the file, changing nothing), then the registry and the edge take its routes.
     */
    private Future<String> apply(BerthConfig next) {
        return launcher.prepare(next.routes()).map(prepared -> {
            next.routes().forEach(route -> metrics.routeAdded(route.name()));
            String summary = registry.apply(next);
            edge.routesChanged(next.routes());
            return summary;
        });
    }

    /** Every session as the admin API shows it, for a leak audit. */
    public Future<List<SessionSnapshot>> sessions() {
        return registry.snapshot();
    }

    /** What the session registry holds now, for a leak audit. */
    public Future<Sessions.Holdings> holdings() {
        return registry.holdings();
    }

    /** The admin API's port; useful when the config asked for port 0. */
    public int adminPort() {
        return admin.actualPort();
    }

    /** The port the edge listens on; useful when the config asked for port 0. */
    public int port() {
        return servers.get(0).actualPort();
    }

    @Override
    public Future<?> stop() {
        if (reloader != null) {
            reloader.stopWatching();
        }
        vertx.cancelTimer(versionGauges);
        if (edge != null) {
            edge.stop();
        }
        boolean keep = config.sessions().onShutdown() == SessionsConfig.OnShutdown.KEEP
                && launcher != null
                && launcher.backendsOutliveGateway();
        if (registry != null) {
            LOG.info(
                    keep
                            ? "keeping " + registry.size()
                                    + " session(s) running for the next gateway (sessions.onShutdown: keep)"
                            : "ending " + registry.size() + " session(s) and stopping their backends");
        }
        // Sessions first, so clients get a close code before the server drops their connections.
        Future<Void> sessions = registry == null ? Future.succeededFuture() : registry.shutdown(keep);
        return sessions.eventually(() ->
                        Future.join(servers.stream().map(HttpServer::close).toList()))
                .eventually(() -> admin == null ? Future.succeededFuture() : admin.close())
                .eventually(() -> launcher == null ? Future.succeededFuture() : launcher.close())
                .eventually(() -> upstream == null ? Future.succeededFuture() : upstream.close())
                .andThen(closed -> {
                    if (metrics != null) {
                        metrics.close(); // the JVM binders' GC listeners
                    }
                });
    }
}
