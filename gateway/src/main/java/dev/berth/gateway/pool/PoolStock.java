package dev.berth.gateway.pool;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

/**
 * The idle entries of a warm pool, on the control loop: each parked with a watch for its loss (its
 * websocket closed, its backend exited), after which it is stopped and the pool refills. Once the
 * pool closed, nothing is parked any more.
 */
final class PoolStock {

    private static final Logger LOG = Logger.getLogger(WarmPool.class.getName()); // the pool's log, one name

    private final RouteConfig route;
    private final Context control;
    private final IntSupplier target;
    private final Runnable refill;
    private final ArrayDeque<PoolEntry> idle = new ArrayDeque<>();
    private boolean closed;
    /** Set by {@link #close}: whether what the pool holds is stopped or left for the next gateway. */
    private boolean stopOnClose;

    /**
     * @param target how many idle backends this gateway keeps now
     * @param refill asked to start another when an idle entry is lost
     */
    PoolStock(RouteConfig route, Context control, IntSupplier target, Runnable refill) {
        this.route = route;
        this.control = control;
        this.target = target;
        this.refill = refill;
    }

    int idle() {
        return idle.size();
    }

    boolean closed() {
        return closed;
    }

    /** Whether one more entry would still be within the pool's target. */
    boolean hasRoom() {
        return idle.size() < target.getAsInt();
    }

    /**
     * Stops idle entries past the pool's target, the newest first: the target decays once arrivals
     * stop, and shrinks when another gateway starts serving the route.
     */
    void stopSurplus() {
        while (!closed && idle.size() > target.getAsInt()) {
            PoolEntry surplus = idle.pollLast();
            PoolHandshakes.stopWatching(surplus.socket());
            surplus.socket().close();
            surplus.backend().stop();
            LOG.info("pool of route " + route.name() + ": stopped "
                    + surplus.backend().description() + ", the pool's target is " + target.getAsInt()
                    + " now (arrivals fell off, or another gateway shares the route)");
        }
    }

    /** Completes at once, or when the entry was stopped because the pool closed while it started. */
    Future<Void> park(PoolEntry entry) {
        if (closed) {
            entry.socket().close();
            return entry.backend().stop();
        }
        idle.add(entry);
        Runnable lost = () -> {
            if (idle.remove(entry)) {
                entry.backend().stop();
                refill.run();
            }
        };
        try {
            entry.socket().closeHandler(EventLoops.on(control, v -> lost.run()));
        } catch (IllegalStateException closedOnItsLoop) {
            lost.run(); // its handler stopped or died between the dial and now
            return Future.succeededFuture();
        }
        entry.backend().exited().onSuccess(why -> lost.run());
        LOG.info("pool of route " + route.name() + ": " + entry.backend().description() + " ready (" + idle.size()
                + " idle, target " + target.getAsInt() + ")");
        return Future.succeededFuture();
    }

    /** An idle entry dialled from {@code loop} if one is, else the oldest; taken out of the stock. Null when empty. */
    PoolEntry takeNearest(Context loop) {
        PoolEntry entry = idle.stream()
                .filter(ready -> EventLoops.sameLoop(ready.loop(), loop))
                .findFirst()
                .orElse(idle.peek());
        if (entry != null) {
            idle.remove(entry);
        }
        return entry;
    }

    /** What becomes of a pool backend found while the pool closes: it goes or stays with the others. */
    Future<Void> leaveClosed(Backend pooled) {
        if (stopOnClose) {
            return pooled.stop();
        }
        pooled.release();
        return Future.succeededFuture();
    }

    /**
     * Parks nothing from now on and lets go of the idle entries: with {@code stopBackends}, removing
     * them; otherwise leaving them running for the next gateway to adopt. Returns the stops.
     */
    List<Future<Void>> close(boolean stopBackends) {
        closed = true;
        stopOnClose = stopBackends;
        List<Future<Void>> stops = new ArrayList<>(idle.stream()
                .map(entry -> {
                    PoolHandshakes.stopWatching(entry.socket());
                    entry.socket().close();
                    return stopBackends ? entry.backend().stop() : Future.<Void>succeededFuture();
                })
                .toList());
        idle.clear();
        return stops;
    }
}
