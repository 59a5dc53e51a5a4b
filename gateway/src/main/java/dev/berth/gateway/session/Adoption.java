package dev.berth.gateway.session;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The engine is the source of truth: at start and then every {@code sessions.reapInterval},
 * running managed backends that no session holds are adopted as detached sessions (a client may
 * come back for them; if none does, the grace period ends them), and dead ones are removed. A
 * client that comes back here for a session another gateway holds takes it over. On the control
 * loop.
 */
final class Adoption {

    private static final Logger LOG = SessionRegistry.LOG;

    private final SessionServices services;
    private final Supplier<BerthConfig> config;
    private final SessionRegistry registry;
    private final Pools pools;
    /** Compares what runs with what the config runs, once adopted sessions are registered. */
    private final Runnable reviewDrains;
    /** Sessions being taken over from another gateway, by key, so two clients of one session share one take-over. */
    private final Map<String, Future<Session>> takingOver = new HashMap<>();

    private boolean discovering;

    Adoption(
            SessionServices services,
            Supplier<BerthConfig> config,
            SessionRegistry registry,
            Pools pools,
            Runnable reviewDrains) {
        this.services = services;
        this.config = config;
        this.registry = registry;
        this.pools = pools;
        this.reviewDrains = reviewDrains;
    }

    /** Adopts what the engine runs and no session holds; completes once every one is registered. */
    Future<Integer> discover() {
        if (discovering) {
            return Future.succeededFuture(0);
        }
        discovering = true;
        return services.launcher()
                .discover()
                .map(found -> {
                    int adopted = 0;
                    for (Backend backend : found) {
                        adopted += adopt(backend) ? 1 : 0;
                    }
                    reviewDrains.run();
                    return adopted;
                })
                .onFailure(error -> LOG.warning("cannot look for sessions on the engine: " + error.getMessage()))
                .onComplete(done -> discovering = false);
    }

    /** Adopts {@code backend} as a detached session; false when it is a pool entry, or stopped, or held already. */
    boolean adopt(Backend backend) {
        Optional<RouteConfig> route = config.get().route(backend.routeName());
        if (backend.sessionKey() == null) { // a pool entry, not claimed yet
            pools.adopt(backend);
            return false;
        }
        Session holder = registry.get(backend.sessionKey());
        if (route.isEmpty()) {
            LOG.warning(backend.description() + " belongs to route '" + backend.routeName()
                    + "', which the config no longer has: stopping it");
            backend.stop();
            return false;
        }
        if (holder != null && holder.runsOn(backend)) {
            // Found while a client's take-over made it this gateway's and before that was registered:
            // the same backend, already held.
            return false;
        }
        if (holder != null) {
            LOG.warning(backend.description() + " duplicates the backend of live " + holder + ": stopping it");
            backend.stop();
            return false;
        }
        registry.register(Session.adopt(backend, versionOf(route.get(), backend.version()), services, registry::forget))
                .connectAdopted();
        return true;
    }

    /**
     * The session {@code key} as this gateway holds it after taking it over from the gateway that
     * held it (a client came back here), or null when the engine runs no backend for it. Clients of
     * the same session arriving meanwhile wait for the one take-over.
     */
    Future<Session> takeOver(String key, RouteConfig route) {
        Future<Session> inFlight = takingOver.get(key);
        if (inFlight != null) {
            return inFlight;
        }
        // A pool entry being looked at may serve this very session (its gateway stopped before the
        // engine had the session's name): once settled it is registered, and nothing is to be taken.
        Future<Session> taken = pools.looksSettled(route.name())
                .compose(settled -> registry.get(key) != null
                        ? Future.succeededFuture(null)
                        : services.launcher().takeOver(route, key))
                .map(backend -> {
                    if (backend == null || registry.get(key) != null) {
                        return registry.get(key);
                    }
                    Session session = registry.register(
                            Session.adopt(backend, versionOf(route, backend.version()), services, registry::forget));
                    session.connectAdopted();
                    return session;
                });
        takingOver.put(key, taken);
        // After the put: a launcher that has nothing to take over completes at once.
        taken.onComplete(done -> takingOver.remove(key, taken));
        return taken;
    }

    /** Take-overs from other gateways in flight, for a leak audit. */
    int takingOver() {
        return takingOver.size();
    }

    /** {@code route} as it runs {@code version}: itself, its canary, or a version it no longer runs (draining). */
    private static RouteConfig versionOf(RouteConfig route, String version) {
        if (version == null || version.equals(route.version())) {
            return route;
        }
        boolean canary = route.canary() != null && route.canary().version().equals(version);
        return canary ? route.asCanary() : route.asRetired(version);
    }
}
