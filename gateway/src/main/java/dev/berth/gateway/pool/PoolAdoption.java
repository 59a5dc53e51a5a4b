package dev.berth.gateway.pool;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.BackendDialer;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Pool backends this gateway did not start, on the control loop: those an earlier gateway left
 * running, looked at and parked or stopped, and those found serving a session already, handed to
 * the registry as that session.
 */
final class PoolAdoption {

    private static final Logger LOG = Logger.getLogger(WarmPool.class.getName()); // the pool's log, one name

    private final EventLoops loops;
    private final RouteConfig route;
    private final Launcher launcher;
    private final BackendDialer dialer;
    private final PoolHandshakes handshakes;
    private final PoolStock stock;
    private final Consumer<Backend> sessionFound;
    private final Runnable refill;
    /**
     * Entries found on the engine and being looked at, each completing once settled: they count as
     * the pool's while they are, and closing waits for them.
     */
    private final List<Future<Void>> adopting = new ArrayList<>();

    /**
     * @param sessionFound takes a pool backend that turns out to serve a session already, named after it now
     * @param refill asked to fill the pool once an entry is settled
     */
    PoolAdoption(
            EventLoops loops,
            RouteConfig route,
            Launcher launcher,
            BackendDialer dialer,
            PoolHandshakes handshakes,
            PoolStock stock,
            Consumer<Backend> sessionFound,
            Runnable refill) {
        this.loops = loops;
        this.route = route;
        this.launcher = launcher;
        this.dialer = dialer;
        this.handshakes = handshakes;
        this.stock = stock;
        this.sessionFound = sessionFound;
        this.refill = refill;
    }

    /** How many entries are being looked at. */
    int inProgress() {
        return adopting.size();
    }

    /** The looks in progress, each completing once its entry is settled. */
    List<Future<Void>> inFlight() {
        return adopting;
    }

    /**
     * Completes once every look in progress now is settled, a claimed entry's session registered
     * included; never fails.
     */
    Future<Void> settled() {
        return Future.join(List.copyOf(adopting)).<Void>mapEmpty().otherwiseEmpty();
    }

    /**
     * A pooled backend an earlier gateway left running, dialled and given a moment to greet: a
     * handler claimed before greets every new connection at once with its session's hello (the
     * gateway that claimed it died before the engine had the session's name), and is that session's,
     * not the pool's. A silent one is unclaimed: parked again, or stopped when the pool is full. One
     * that does not answer (still starting, or another gateway's and not ready yet) is left for a
     * later look.
     */
    void adopt(Backend pooled) {
        Context loop = loops.next();
        Future<Void> settled = dialer.dial(pooled, route.path(), loop)
                .compose(socket -> handshakes.greeting(socket, loop)) // on the socket's own loop, as a claim
                .transform(greeted -> settle(pooled, loop, greeted));
        adopting.add(settled);
        settled.onComplete(done -> {
            adopting.remove(settled);
            refill.run(); // it was counted as the pool's while it was looked at
        });
    }

    /** What becomes of an adopted entry once it greeted, or did not; completes when that is done. */
    private Future<Void> settle(Backend pooled, Context loop, AsyncResult<PoolHandshakes.Greeting> greeted) {
        if (greeted.failed()) {
            pooled.release(); // still starting, maybe: the reaper's next look finds it again
            return Future.succeededFuture();
        }
        WebSocket socket = greeted.result().socket();
        String session = greeted.result().session();
        if (session == null && !stock.closed() && stock.hasRoom()) {
            return stock.park(new PoolEntry(pooled, socket, loop));
        }
        socket.close();
        if (session != null) {
            return foundClaimed(pooled, session);
        }
        if (stock.closed()) { // the gateway is stopping: its pool's backends go or stay with the others
            return stock.leaveClosed(pooled);
        }
        return stopSurplus(pooled);
    }

    /**
     * A pool backend that serves {@code session} already: named after it and handed to the
     * registry as that session, whose client can come back to it; completes once it is. While the
     * engine cannot rename it, it is let go, and the next look on the engine finds it again.
     */
    Future<Void> foundClaimed(Backend pooled, String session) {
        LOG.warning(
                "pool of route " + route.name() + ": " + pooled.description() + " serves session " + session
                        + " already (its gateway stopped before the engine had the session's name): adopting it as that session");
        return launcher.claim(pooled, session).transform(named -> {
            if (named.succeeded()) {
                sessionFound.accept(named.result());
            } else {
                pooled.release();
                LOG.warning("pool of route " + route.name() + ": cannot name " + pooled.description()
                        + " after session " + session + " yet (" + named.cause().getMessage()
                        + "); the next look on the engine tries again");
            }
            return Future.succeededFuture();
        });
    }

    /** A pool backend of this gateway's that the pool has no room for: nothing else would ever claim it. */
    private Future<Void> stopSurplus(Backend pooled) {
        LOG.info("pool of route " + route.name() + ": stopping " + pooled.description() + ", the pool is full");
        return pooled.stop();
    }
}
