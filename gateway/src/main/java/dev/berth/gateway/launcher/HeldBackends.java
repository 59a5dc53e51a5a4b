package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The backends an engine launcher holds a handle for, and their removal: each handle's exit and
 * move-away (completed by however the launcher watches its engine), the names being created, the
 * removals under way (one at a time each, and closing waits for them), and the removals the engine
 * owes. Event-loop only.
 */
final class HeldBackends {

    /** The engine's part of a removal: stop (SIGTERM, then SIGKILL after the stop timeout) and remove; gone is done. */
    @FunctionalInterface
    interface Removal {
        /** @param route null for a route this gateway never ran */
        Future<Void> remove(String id, RouteConfig route, Duration stopTimeout);
    }

    /** What the engine runs a backend as, for log lines: "container", "service". */
    private final String kind;

    private final Logger log;
    private final KnownRoutes routes;
    private final Removal removal;
    /** Exit promises of the backends this launcher holds a handle for, by engine id. */
    private final Map<String, Promise<String>> exits = new HashMap<>();
    /** Completed with the new holder when another gateway takes a backend over, by engine id. */
    private final Map<String, Promise<String>> moves = new HashMap<>();
    /** Names of backends being created, so discovery never adopts a launch in flight. */
    private final Set<String> creating = new HashSet<>();
    /** Removals under way, by engine id, so closing the launcher waits for them instead of cutting them off. */
    private final Map<String, Future<Void>> removals = new HashMap<>();
    /**
     * Backends this gateway removed that the engine did not (it was away), by id, with their route:
     * removed again at every look on the engine until it works, and never adopted.
     */
    private final Map<String, String> owedRemovals = new HashMap<>();

    HeldBackends(String kind, Logger log, KnownRoutes routes, Removal removal) {
        this.kind = kind;
        this.log = log;
        this.routes = routes;
        this.removal = removal;
    }

    /** The handle of one of our backends; its exit and move-away are reported by the launcher's watch. */
    Backend handle(String id, String name, String sessionKey, String route, String version, SocketAddress address) {
        Promise<String> exit = exits.computeIfAbsent(id, known -> Promise.promise());
        Promise<String> moved = moves.computeIfAbsent(id, known -> Promise.promise());
        return new Backend(
                describe(name, id),
                id,
                sessionKey,
                route,
                version,
                address,
                exit.future(),
                moved.future(),
                () -> remove(id, route),
                () -> forget(id));
    }

    /** For log lines, e.g. "container berth-listings-1a2b (3f9e0c12ab34)". */
    String describe(String name, String id) {
        return kind + " " + name + " (" + id.substring(0, 12) + ")";
    }

    /** Holds no handle for the backend any more: discovery looks at it again. */
    void forget(String id) {
        exits.remove(id);
        moves.remove(id);
    }

    boolean holds(String id) {
        return exits.containsKey(id);
    }

    /** The backends held now, for a look that can only judge these. */
    Set<String> heldNow() {
        return Set.copyOf(exits.keySet());
    }

    /** Reports a held backend's exit; false when this gateway holds no handle for it. */
    boolean exited(String id, String reason) {
        Promise<String> exit = exits.get(id);
        if (exit == null) {
            return false;
        }
        exit.tryComplete(reason);
        return true;
    }

    /** Another gateway took a held backend over: this one lets go of it without stopping it. */
    void movedTo(String id, String holder) {
        Promise<String> moved = moves.get(id);
        if (moved != null) {
            forget(id);
            moved.tryComplete(holder);
        }
    }

    /** Runs a backend's creation, while which discovery leaves its name alone. */
    <T> Future<T> creating(String name, Supplier<Future<T>> create) {
        creating.add(name);
        return create.get().onComplete(created -> creating.remove(name));
    }

    /**
     * Stops and removes a backend through the engine, once at a time; a removal that fails is owed
     * and tried again at each look on the engine.
     */
    Future<Void> remove(String id, String routeName) {
        Future<Void> under = removals.get(id);
        if (under != null) {
            return under;
        }
        RouteConfig route = routes.get(routeName);
        // A route this gateway never ran says nothing: its backend gets what a route that sets no
        // timeouts.stop gets, the same on every engine (the docker and swarm launchers once differed).
        Duration stopTimeout = route == null
                ? RouteConfig.Timeouts.DEFAULT_STOP
                : route.timeouts().stop();
        Future<Void> removed = removal.remove(id, route, stopTimeout).onComplete(done -> {
            forget(id);
            if (done.failed()) {
                owedRemovals.put(id, routeName);
                log.warning("could not remove " + kind + " " + id.substring(0, 12) + ": "
                        + done.cause().getMessage()
                        + "; trying again at each look on the engine (sessions.reapInterval)");
            } else {
                owedRemovals.remove(id);
            }
        });
        removals.put(id, removed);
        removed.onComplete(done -> removals.remove(id));
        return removed;
    }

    /**
     * Removes a pool entry found on the engine that no session claimed and whose version its route no
     * longer runs (a pool adopts no older version); true when it did.
     */
    boolean removedStale(String id, String name, String sessionKey, String version, RouteConfig route) {
        if (sessionKey != null || route.version().equals(version)) {
            return false;
        }
        log.info("removing pool " + kind + " " + name + ": version " + version + ", the route runs " + route.version());
        remove(id, route.name());
        return true;
    }

    /** Begins a look on the engine for backends to adopt: the removals the engine owes are tried again first. */
    Look look() {
        Look look = new Look(heldNow(), Set.copyOf(creating));
        Map.copyOf(owedRemovals).forEach(this::remove);
        return look;
    }

    /** One look on the engine, begun before the engine answered. */
    final class Look {
        private final Set<String> heldBefore;
        private final Set<String> creatingBefore;

        private Look(Set<String> heldBefore, Set<String> creatingBefore) {
            this.heldBefore = heldBefore;
            this.creatingBefore = creatingBefore;
        }

        /** Whether the look must not adopt this backend: held, created or owed a removal, before the look or since. */
        boolean leavesAlone(String id, String name) {
            return heldBefore.contains(id)
                    || exits.containsKey(id)
                    || creatingBefore.contains(name)
                    || creating.contains(name)
                    || owedRemovals.containsKey(id);
        }
    }

    /** Completes once the removals under way are over, however they ended. */
    Future<Void> removalsDone() {
        return Future.join(List.copyOf(removals.values())).mapEmpty();
    }
}
