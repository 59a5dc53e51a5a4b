package dev.berth.gateway.pool;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.BackendDialer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

/**
 * Ready backends of one route waiting to be claimed, so a new session starts without waiting for
 * a container and a JVM. Each entry is launched with no session, made ready, and dialled: the
 * gateway holds its websocket (which also keeps the handler from exiting idle), and a claim is
 * the launcher's atomic claim plus one frame naming the session. The pool refills one backend at
 * a time, only while admission has room, so refills never crowd out live sessions. Its size is
 * this gateway's share of the route's {@code pool.size} (see {@link #share}). Lives on the
 * control loop; each entry's websocket is dialled from a data loop in turn, where the session that
 * claims it will pipe it.
 *
 * <p>Its rooms: the idle entries ({@link PoolStock}), what is said to a pooled handler on its
 * socket's loop ({@link PoolHandshakes}), and backends found on the engine ({@link PoolAdoption});
 * here, the refill and the claims.
 */
public final class WarmPool {

    /** A claimed entry, with the handler's first frame (its hello), already read, to pass on. */
    public record Claimed(Backend backend, WebSocket socket, Context loop, WebSocketFrame hello) {}

    private static final Logger LOG = Logger.getLogger(WarmPool.class.getName());
    private static final long RETRY_AFTER_FAILURE_MS = 2000;
    private static final long NAMING_RETRY_MS = 2000;

    private final Vertx vertx;
    private final EventLoops loops;
    private final RouteConfig route;
    private final Launcher launcher;
    private final BackendDialer dialer;
    private final PoolMeter meter;
    private final BooleanSupplier roomToGrow;
    private final IntSupplier size;
    private final PoolHandshakes handshakes;
    private final PoolStock stock;
    private final PoolAdoption adoption;
    private int starting;
    /**
     * A start failed and the next try is waiting for its timer: until then no other call starts
     * one, so a pool whose engine is away tries once every {@link #RETRY_AFTER_FAILURE_MS}, however
     * often sessions, the reaper and lost entries ask it to fill (it tried several times a second).
     */
    private boolean retryPending;
    /** Completes when the entry being started is parked, or stopped if the pool closed meanwhile. */
    private Future<Void> startSettled = Future.succeededFuture();

    /**
     * @param roomToGrow whether admission limits leave room for one more backend
     * @param size how many idle backends this gateway keeps now: its share of the route's pool
     * @param sessionFound takes a pool backend that turns out to serve a session already (claimed by
     *     a gateway that died before the engine had its session's name), named after it now
     */
    public WarmPool(
            Vertx vertx,
            Context control,
            EventLoops loops,
            RouteConfig route,
            Launcher launcher,
            BackendDialer dialer,
            PoolMeter meter,
            BooleanSupplier roomToGrow,
            IntSupplier size,
            Consumer<Backend> sessionFound) {
        this.vertx = vertx;
        this.loops = loops;
        this.route = route;
        this.launcher = launcher;
        this.dialer = dialer;
        this.meter = meter;
        this.roomToGrow = roomToGrow;
        this.size = size;
        this.handshakes = new PoolHandshakes(vertx);
        this.stock = new PoolStock(route, control, size, this::fill);
        this.adoption = new PoolAdoption(loops, route, launcher, dialer, handshakes, stock, sessionFound, this::fill);
    }

    /**
     * This gateway's share of a route's pool of {@code poolSize}, which is the whole deployment's:
     * split evenly over the gateways holding backends of the route ({@code self} and {@code others},
     * their ids), the remainder to the first ids in order, and at least one each, so that a new
     * session starts at once on whichever gateway its client lands.
     */
    public static int share(int poolSize, String self, Set<String> others) {
        if (poolSize == 0 || others.isEmpty() || others.equals(Set.of(self))) {
            return poolSize;
        }
        TreeSet<String> all = new TreeSet<>(others);
        all.add(self);
        int rank = all.headSet(self).size();
        return Math.max(1, poolSize / all.size() + (rank < poolSize % all.size() ? 1 : 0));
    }

    /** The route (and so the version) its backends run. */
    public RouteConfig route() {
        return route;
    }

    public int idle() {
        return stock.idle();
    }

    /**
     * Starts one more entry if the pool is short, none is starting, and admission has room; stops
     * idle entries past its size, which shrinks when another gateway starts serving the route.
     */
    public void fill() {
        stock.stopSurplus();
        if (stock.closed()
                || starting > 0
                || retryPending
                || stock.idle() + adoption.inProgress() >= size.getAsInt()
                || !roomToGrow.getAsBoolean()) {
            return;
        }
        starting++;
        long begun = System.nanoTime();
        Promise<Void> settled = Promise.promise();
        startSettled = settled.future();
        launcher.launch(LaunchRequest.forPool(route))
                .compose(backend -> dial(backend))
                .onComplete(launched -> {
                    starting--;
                    if (launched.succeeded()) {
                        meter.refilled(route.name(), Duration.ofNanos(System.nanoTime() - begun));
                        stock.park(launched.result()).onComplete(settled);
                        fill();
                    } else {
                        settled.complete();
                        LOG.warning("pool of route " + route.name() + ": cannot start a backend ("
                                + launched.cause().getMessage() + "); trying again in " + RETRY_AFTER_FAILURE_MS
                                + "ms");
                        retryPending = true;
                        vertx.setTimer(RETRY_AFTER_FAILURE_MS, id -> {
                            retryPending = false;
                            fill();
                        });
                    }
                });
    }

    private Future<PoolEntry> dial(Backend backend) {
        Context loop = loops.next();
        return dialer.dial(backend, route.path(), loop)
                .map(socket -> new PoolEntry(backend, socket, loop))
                .recover(error -> backend.stop().transform(stopped -> Future.failedFuture(error)));
    }

    /** Looks at a pooled backend an earlier gateway left running: see {@link PoolAdoption#adopt}. */
    public void adopt(Backend pooled) {
        adoption.adopt(pooled);
    }

    /**
     * A ready backend for session {@code key}, dialled from {@code loop} if one is, or null when the
     * pool is empty. The handler itself settles the claim ({@link PoolHandshakes#claim}): it accepts
     * the first session it is claimed for and answers with its hello, and refuses any other (1008),
     * so gateways that share a pool entry can never both get it. A lost entry is let go, not stopped
     * (it is someone's now), and the next one tried. The winner then names the container after the
     * session, for a restarted gateway to find, without waiting.
     */
    public Future<Claimed> take(String key, Context loop) {
        PoolEntry entry = stock.takeNearest(loop);
        if (entry == null) {
            meter.claimed(route.name(), false);
            fill();
            return Future.succeededFuture(null);
        }
        meter.claimed(route.name(), true);
        fill();
        return handshakes
                .claim(entry, key)
                .recover(lost -> {
                    entry.socket().close();
                    if (lost instanceof PoolHandshakes.AlreadyClaimed claimed) {
                        adoption.foundClaimed(entry.backend(), claimed.session);
                    } else if (lost instanceof PoolHandshakes.ClaimRefused) {
                        entry.backend().release(); // another gateway's claim won: the backend is its session now
                    } else {
                        entry.backend().stop(); // no answer, or gone: of no use to anyone
                    }
                    LOG.info("pool of route " + route.name() + ": "
                            + entry.backend().description() + " not claimed (" + lost.getMessage()
                            + "); trying the next one");
                    return take(key, loop);
                })
                .onSuccess(claimed -> {
                    if (claimed != null && claimed.backend() == entry.backend()) {
                        nameAfterSession(entry.backend(), key, NAMING_RETRY_MS);
                    }
                });
    }

    /**
     * Off the session's critical path: the engine call takes longer than the whole claim. While the
     * engine is away it is tried again (every 2 s, then less often, up to 30 s) as long as the
     * backend runs; a gateway restarted before it worked finds the session all the same, by the
     * hello its handler greets the pool with.
     */
    private void nameAfterSession(Backend backend, String key, long retryMs) {
        launcher.claim(backend, key).onFailure(unnamed -> {
            if (backend.exited().isComplete()) {
                return; // its session is over
            }
            LOG.warning("pool of route " + route.name() + ": session " + key + " runs in " + backend.description()
                    + " but the engine does not have its name yet (" + unnamed.getMessage() + "); trying again in "
                    + retryMs + "ms");
            vertx.setTimer(retryMs, id -> nameAfterSession(backend, key, Math.min(retryMs * 2, 30_000)));
        });
    }

    /**
     * Stops refilling and lets go of the idle entries: with {@code stopBackends}, removing them;
     * otherwise leaving them running for the next gateway to adopt.
     */
    public Future<Void> close(boolean stopBackends) {
        List<Future<Void>> stops = stock.close(stopBackends);
        stops.add(startSettled); // one still starting is stopped as it parks (or kept with the others)
        stops.addAll(adoption.inFlight()); // and one being looked at, as it settles
        return Future.join(stops).<Void>mapEmpty().otherwiseEmpty();
    }
}
