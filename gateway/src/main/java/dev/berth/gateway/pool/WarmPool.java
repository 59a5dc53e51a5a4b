package dev.berth.gateway.pool;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.launcher.SessionUser;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.BackendDialer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.time.Duration;
import java.util.ArrayList;
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
 * gateway holds its websocket (which also keeps the handler from exiting idle), and a claim is one
 * frame naming the session, which the handler settles; the engine learns the session's name
 * afterwards. How many entries it keeps follows demand ({@link PoolDemand}): a target between its
 * floor and ceiling, this gateway's shares of the route's {@code pool.min} and {@code pool.max} (see
 * {@link #share}). It refills several at once, up to {@code parallel}, only while admission has room,
 * so refills never crowd out live sessions; idle entries above a target that decayed are stopped.
 * Lives on the control loop (it looks again every {@link #TICK_MS}); each entry's websocket is
 * dialled from a data loop in turn, where the session that claims it will pipe it.
 *
 * <p>Its rooms: the idle entries ({@link PoolStock}), what is said to a pooled handler on its
 * socket's loop ({@link PoolHandshakes}), backends found on the engine ({@link PoolAdoption}), and
 * the target ({@link PoolDemand}); here, the refills and the claims.
 */
public final class WarmPool {

    /** A claimed entry, with the handler's first frame (its hello), already read, to pass on. */
    public record Claimed(Backend backend, WebSocket socket, Context loop, WebSocketFrame hello) {}

    private static final Logger LOG = Logger.getLogger(WarmPool.class.getName());
    private static final long RETRY_AFTER_FAILURE_MS = 2000;
    private static final long NAMING_RETRY_MS = 2000;
    /**
     * How long the engine work a claim sets off waits: a container's create and start cost about a
     * CPU-second of the engine's, which, begun at the claim, slowed the session's own 101 and first
     * frame on a 2-core machine (docs/benchmarks/start.md).
     */
    static final long ENGINE_WORK_AFTER_CLAIM_MS = 50;
    /** How often the pool looks at its target again when nothing else asks it to (the target decays). */
    static final long TICK_MS = 1000;

    private final Vertx vertx;
    private final EventLoops loops;
    private final RouteConfig route;
    private final Launcher launcher;
    private final BackendDialer dialer;
    private final PoolMeter meter;
    private final BooleanSupplier roomToGrow;
    private final IntSupplier floor;
    private final IntSupplier ceiling;
    private final int parallel;
    private final PoolDemand demand;
    private final PoolHandshakes handshakes;
    private final PoolStock stock;
    private final PoolAdoption adoption;
    private final long tick;
    /** Entries being launched and dialled; read by the gauges' thread too. */
    private volatile int starting;
    /** The target last worked out, for the gauges' thread. */
    private volatile int target;
    /**
     * A start failed and the next try is waiting for its timer: until then no other call starts
     * one, so a pool whose engine is away tries once every {@link #RETRY_AFTER_FAILURE_MS}, however
     * often sessions, the reaper and lost entries ask it to fill (it tried several times a second).
     */
    private boolean retryPending;
    /** One per entry being started, completing when it is parked, or stopped if the pool closed meanwhile. */
    private final List<Future<Void>> startsSettling = new ArrayList<>();

    /**
     * @param roomToGrow whether admission limits leave room for one more backend
     * @param floor the fewest idle backends this gateway keeps now: its share of the route's {@code pool.min}
     * @param ceiling the most: its share of {@code pool.max}
     * @param parallel the most entries started at once
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
            IntSupplier floor,
            IntSupplier ceiling,
            int parallel,
            Consumer<Backend> sessionFound) {
        this.vertx = vertx;
        this.loops = loops;
        this.route = route;
        this.launcher = launcher;
        this.dialer = dialer;
        this.meter = meter;
        this.roomToGrow = roomToGrow;
        this.floor = floor;
        this.ceiling = ceiling;
        this.parallel = Math.max(1, parallel);
        this.demand = new PoolDemand(route.pool().decay(), System::nanoTime);
        this.handshakes = new PoolHandshakes(vertx);
        this.stock = new PoolStock(route, control, this::target, this::fill);
        this.adoption = new PoolAdoption(loops, route, launcher, dialer, handshakes, stock, sessionFound, this::fill);
        this.tick = vertx.setPeriodic(TICK_MS, EventLoops.on(control, id -> fill()));
        this.target = floor.getAsInt();
    }

    /**
     * This gateway's share of a route's pool of {@code poolSize} (its floor or its ceiling), which is
     * the whole deployment's: split evenly over the gateways holding backends of the route
     * ({@code self} and {@code others}, their ids), the remainder to the first ids in order, and at
     * least one each, so that a new session starts at once on whichever gateway its client lands.
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

    /** Idle entries and those being started: what the pool holds against the limits. */
    public int held() {
        return stock.idle() + starting;
    }

    /** Entries being started now; from any thread. */
    public int starting() {
        return starting;
    }

    /** The idle entries the pool aims to hold now, as last worked out; from any thread. */
    public int lastTarget() {
        return target;
    }

    /** The idle entries to hold now: the demand's target within this gateway's floor and ceiling. */
    private int target() {
        int low = floor.getAsInt();
        target = demand.target(low, Math.max(low, ceiling.getAsInt()));
        return target;
    }

    /**
     * Starts entries, up to {@code parallel} at once, while the pool holds fewer than its target,
     * none failed just now, and admission has room; stops idle entries past the target, which
     * decays once arrivals stop, and shrinks when another gateway starts serving the route.
     */
    public void fill() {
        stock.stopSurplus();
        int aim = target();
        while (!stock.closed()
                && !retryPending
                && starting < parallel
                && stock.idle() + adoption.inProgress() + starting < aim
                && roomToGrow.getAsBoolean()) {
            startOne();
        }
    }

    private void startOne() {
        starting++;
        long begun = System.nanoTime();
        Promise<Void> settled = Promise.promise();
        startsSettling.add(settled.future());
        settled.future().onComplete(done -> startsSettling.remove(settled.future()));
        launcher.launch(LaunchRequest.forPool(route))
                .compose(backend -> dial(backend))
                .onComplete(launched -> {
                    starting--;
                    if (launched.succeeded()) {
                        Duration took = Duration.ofNanos(System.nanoTime() - begun);
                        meter.refilled(route.name(), took);
                        demand.launched(took);
                        stock.park(launched.result()).onComplete(settled);
                        fill();
                    } else {
                        settled.complete();
                        LOG.warning("pool of route " + route.name() + ": cannot start a backend ("
                                + launched.cause().getMessage() + "); trying again in " + RETRY_AFTER_FAILURE_MS
                                + "ms");
                        if (!retryPending) {
                            retryPending = true;
                            vertx.setTimer(RETRY_AFTER_FAILURE_MS, id -> {
                                retryPending = false;
                                fill();
                            });
                        }
                    }
                });
    }

    /**
     * A session of the route that found the pool empty had its own backend launched, ready after
     * {@code took}: how long launches take now, for the target.
     */
    public void launchedForSession(Duration took) {
        demand.launched(took);
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
     * Completes once the entries being looked at now are settled: one that serves a session already
     * is that session's by then, so a client coming back for it finds it registered.
     */
    public Future<Void> looksSettled() {
        return adoption.settled();
    }

    /**
     * A ready backend for session {@code key} (serving {@code user}, or no one), dialled from {@code loop} if one is, or null when the
     * pool is empty. The handler itself settles the claim ({@link PoolHandshakes#claim}): it accepts
     * the first session it is claimed for and answers with its hello, and refuses any other (1008),
     * so gateways that share a pool entry can never both get it. A lost entry is let go, not stopped
     * (it is someone's now), and the next one tried. The engine work a claim sets off, the refill it
     * makes room for and the container's new name (for a restarted gateway to find the session),
     * waits {@link #ENGINE_WORK_AFTER_CLAIM_MS}, past the session's 101 and first frame.
     */
    public Future<Claimed> take(String key, SessionUser user, Context loop) {
        demand.arrived();
        return claimNext(key, user, loop);
    }

    private Future<Claimed> claimNext(String key, SessionUser user, Context loop) {
        PoolEntry entry = stock.takeNearest(loop);
        if (entry == null) {
            meter.claimed(route.name(), false);
            fill();
            return Future.succeededFuture(null);
        }
        meter.claimed(route.name(), true);
        return handshakes
                .claim(entry, key, user)
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
                    return claimNext(key, user, loop);
                })
                .onSuccess(claimed -> {
                    if (claimed != null && claimed.backend() == entry.backend()) {
                        vertx.setTimer(ENGINE_WORK_AFTER_CLAIM_MS, id -> {
                            fill();
                            nameAfterSession(entry.backend(), key, NAMING_RETRY_MS);
                        });
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
        vertx.cancelTimer(tick);
        List<Future<Void>> stops = stock.close(stopBackends);
        stops.addAll(startsSettling); // those still starting are stopped as they park (or kept with the others)
        stops.addAll(adoption.inFlight()); // and one being looked at, as it settles
        return Future.join(stops).<Void>mapEmpty().otherwiseEmpty();
    }
}
