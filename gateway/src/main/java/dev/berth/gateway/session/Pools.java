package dev.berth.gateway.session;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.pool.WarmPool;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * The routes' warm pools, one per route with a {@code pool}; each runs its route's version (never a
 * canary's). Pool entries, idle or starting, count against the limits sessions do, and are launched
 * only when no session is launching, at most half the launch slots at once, so a session that
 * finds its pool empty always has a slot. On the control loop, but the gauges' suppliers, which the
 * metrics read from their own thread.
 */
final class Pools {

    private final SessionServices services;
    private final Supplier<BerthConfig> config;
    private final SessionView sessions;
    private final OtherGateways others;
    /** Takes a pool backend that turns out to serve a session already (see {@link WarmPool}). */
    private final Consumer<Backend> sessionFound;
    /** By route name; read by the pool gauges' thread too. */
    private final Map<String, WarmPool> byRoute = new ConcurrentHashMap<>();

    Pools(
            SessionServices services,
            Supplier<BerthConfig> config,
            SessionView sessions,
            OtherGateways others,
            Consumer<Backend> sessionFound) {
        this.services = services;
        this.config = config;
        this.sessions = sessions;
        this.others = others;
        this.sessionFound = sessionFound;
    }

    /** Opens a pool for each route of {@code routes} that has none and wants one. */
    void open(List<RouteConfig> routes) {
        routes.stream().filter(route -> !byRoute.containsKey(route.name())).forEach(this::open);
    }

    private void open(RouteConfig route) {
        if (route.pool().on()) {
            byRoute.put(
                    route.name(),
                    new WarmPool(
                            services.vertx(),
                            services.control(),
                            services.loops(),
                            route,
                            services.launcher(),
                            services.dialer(),
                            services.poolMeter(),
                            () -> roomFor(route),
                            () -> share(route.pool().min(), route),
                            () -> share(route.pool().max(), route),
                            config.get().sessions().maxConcurrentLaunches() / 2,
                            sessionFound));
            services.poolMeter()
                    .poolGauges(
                            route.name(),
                            () -> read(route.name(), WarmPool::idle),
                            () -> read(route.name(), WarmPool::lastTarget),
                            () -> read(route.name(), WarmPool::starting));
        }
    }

    /** This gateway's share of {@code size} idle backends of {@code route}'s pool. */
    private int share(int size, RouteConfig route) {
        return WarmPool.share(size, config.get().sessions().gatewayId(), others.serving(route.name()));
    }

    /**
     * Before {@code next} is in force: a route whose settings changed, or that is gone, loses its
     * pool (its idle backends are stopped); {@link #open} gives the changed ones a new one.
     */
    void closeChanged(BerthConfig next) {
        for (RouteConfig route : next.routes()) {
            WarmPool pool = byRoute.get(route.name());
            if (pool != null && !pool.route().equals(route)) {
                byRoute.remove(route.name()).close(true);
            }
        }
        byRoute.keySet().stream()
                .filter(name -> next.route(name).isEmpty())
                .toList()
                .forEach(name -> byRoute.remove(name).close(true));
    }

    /**
     * Pool entries, idle or starting, count against the limits sessions do, and are launched only
     * when no session is launching: a session that found its pool empty is waited for by its user
     * now, and on a small machine concurrent container starts slow each other down.
     */
    private boolean roomFor(RouteConfig route) {
        return sessions.onRoute(route.name())
                                + others.onRoute(route.name())
                                + byRoute.get(route.name()).held()
                        < route.maxSessions()
                && sessions.size() + others.total() + held()
                        < config.get().sessions().maxSessions()
                && services.gate().idleSlot()
                && services.gate().inFlight() <= starting() // no session launching: the gate holds the pools' own
                && !services.launcher().engineStatus().stalled();
    }

    /** Starts filling the warm pools (after the backends already on the engine were adopted). */
    void fill() {
        byRoute.values().forEach(WarmPool::fill);
    }

    /** The pool a new session on {@code route} takes its backend from; null when the route has none. */
    WarmPool of(String route) {
        return byRoute.get(route);
    }

    /** Completes once {@code route}'s pool entries being looked at now are settled (at once without a pool). */
    Future<Void> looksSettled(String route) {
        WarmPool pool = byRoute.get(route);
        return pool == null ? Future.succeededFuture() : pool.looksSettled();
    }

    /**
     * Takes a pool entry found on the engine (no session claimed it yet) into its route's pool, or
     * stops it when the route keeps no pool any more.
     */
    void adopt(Backend entry) {
        WarmPool pool = byRoute.get(entry.routeName());
        if (pool == null) {
            entry.stop();
        } else {
            pool.adopt(entry);
        }
    }

    /** Idle backends in every pool. */
    int idle() {
        return byRoute.values().stream().mapToInt(WarmPool::idle).sum();
    }

    /** Backends being started for every pool. */
    private int starting() {
        return byRoute.values().stream().mapToInt(WarmPool::starting).sum();
    }

    /** Idle and starting backends in every pool. */
    private int held() {
        return byRoute.values().stream().mapToInt(WarmPool::held).sum();
    }

    /** One reading of {@code route}'s pool, 0 when it has none; from any thread. */
    private int read(String route, ToIntFunction<WarmPool> reading) {
        WarmPool current = byRoute.get(route);
        return current == null ? 0 : reading.applyAsInt(current);
    }

    /** Closes every pool, stopping its idle backends unless {@code keepBackends}. */
    Future<Void> close(boolean keepBackends) {
        return Future.join(byRoute.values().stream()
                        .map(pool -> pool.close(!keepBackends))
                        .toList())
                .mapEmpty();
    }
}
