package dev.berth.gateway.session;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.EngineStatus;
import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway's sessions as the edge, the admin API and the verticle reach them. Behind it, on the
 * control loop: the {@link SessionRegistry} (the map, the only place sessions are added and
 * forgotten) and the rooms that read it, {@link Admission}, {@link Rollout}, {@link Adoption} (and
 * its {@link Reaper}) and the warm {@link Pools}. What the edge and the admin API call hops to the control loop itself and
 * answers on the caller's loop; the verticle's lifecycle calls, below, must already be on it.
 */
public final class Sessions {

    private final SessionServices services;
    /** The config in force; swapped on the control loop by {@link #apply}. */
    private BerthConfig config;

    private final SessionRegistry registry;
    private final OtherGateways others;
    private final Pools pools;
    private final Rollout rollout;
    private final Adoption adoption;
    private final Admission admission;
    private final Reaper reaper;

    public Sessions(BerthConfig config, SessionServices services) {
        this.config = config;
        this.services = services;
        this.registry = new SessionRegistry(this::forgotten);
        this.others = new OtherGateways(services.vertx(), services.launcher(), this::fillPools);
        this.pools = new Pools(services, this::config, registry, others, this::adoptFromPool);
        this.rollout = new Rollout(services, this::config, registry);
        this.adoption = new Adoption(services, this::config, registry, pools, rollout::reviewDrains);
        this.admission = new Admission(services, this::config, registry, others, pools, adoption);
        this.reaper = new Reaper(services.vertx(), others, admission, pools, adoption);
        rollout.configureCanaries(config);
        pools.open(config.routes());
    }

    private BerthConfig config() {
        return config;
    }

    /** A session left the registry: its client address's slot is freed. */
    private void forgotten(Session session) {
        admission.forgotten(session);
    }

    /** A pool backend that turns out to serve a session already is adopted as that session. */
    private void adoptFromPool(Backend backend) {
        adoption.adopt(backend);
    }

    // --- for the edge and the admin API: each hops to the control loop, or reads what any thread may

    /**
     * An arrival at the session a connection is for (see {@link Admission#arrive}). Completes on the
     * caller's loop, which is also where a new session's frames will travel.
     *
     * @param caller the client's address, for per-client admission, and its signed-in user
     */
    public Future<Arrival> arrive(String presentedToken, RouteConfig route, Caller caller) {
        ContextInternal current = ContextInternal.current();
        Context clientLoop = current == null ? null : current.unwrap();
        if (presentedToken == null) {
            try {
                admission.check(caller.address()); // a flood from one address is refused where it arrives
            } catch (FailureException refused) {
                return Future.failedFuture(refused);
            }
        }
        return onControl(() -> admission.arrive(presentedToken, route, caller, clientLoop));
    }

    /** Sessions per state, for /health, on the caller's loop. */
    public Future<Map<SessionState, Integer>> countByState() {
        return onControl(() -> {
            Map<SessionState, Integer> counts = new HashMap<>();
            registry.all().forEach(session -> counts.merge(session.state(), 1, Integer::sum));
            return Future.succeededFuture(counts);
        });
    }

    /** Whether the gateway takes new connections (readiness); read from any thread. */
    public boolean accepting() {
        return admission.accepting();
    }

    /** The launcher's engine as it looks now, from any thread. */
    public EngineStatus engine() {
        return services.launcher().engineStatus();
    }

    /** The number of sessions; read from any thread, for gauges. */
    public int size() {
        return registry.count();
    }

    /** What every session looks like now, for the admin API, on the caller's loop. */
    public Future<List<SessionSnapshot>> snapshot() {
        return onControl(() -> Future.succeededFuture(registry.all().stream()
                .map(session ->
                        session.snapshot().from(admission.callerOf(session.id().key())))
                .toList()));
    }

    /** Ends every live session of user {@code name} for an operator; completes with how many. */
    public Future<Integer> endUserSessions(String name) {
        return onControl(() -> {
            // Chosen first, then ended: an ending session can leave the registry while it is read.
            List<Session> theirs = registry.all().stream()
                    .filter(Session::live)
                    .filter(session -> {
                        Caller caller = admission.callerOf(session.id().key());
                        return caller != null
                                && caller.user() != null
                                && caller.user().name().equals(name);
                    })
                    .toList();
            List<Future<Void>> ended = theirs.stream()
                    .map(session -> session.end(
                            Failure.ENDED_BY_OPERATOR, "ended through the admin API with the user's other sessions"))
                    .toList();
            // Each one ends whatever its backend's stop does (a failed stop is logged by the launcher).
            return Future.join(ended).transform(done -> Future.succeededFuture(theirs.size()));
        });
    }

    /** Ends the session with public key {@code key} for an operator; false when there is none. */
    public Future<Boolean> endByOperator(String key) {
        return onControl(() -> {
            Session session = registry.get(key);
            if (session == null || !session.live()) {
                return Future.succeededFuture(false);
            }
            return session.end(Failure.ENDED_BY_OPERATOR, "ended through the admin API")
                    .map(true);
        });
    }

    /** Pauses or resumes new sessions (admin API); sessions that exist still take their clients back. */
    public Future<Boolean> pauseAdmissions(boolean paused) {
        return onControl(() -> {
            admission.pause(paused);
            return Future.succeededFuture(paused);
        });
    }

    /** Whether admissions are paused, on the caller's loop. */
    public Future<Boolean> admissionsPaused() {
        return onControl(() -> Future.succeededFuture(admission.paused()));
    }

    /** An operator's drain of a version (see {@link Rollout#drainVersion}), on the caller's loop. */
    public Future<Integer> drainVersion(String route, String version, Duration deadline) {
        return onControl(() -> rollout.drainVersion(route, version, deadline));
    }

    /** What runs where: every route's versions, canaries and draining versions (admin API), on the caller's loop. */
    public Future<Versions> versions() {
        return onControl(() -> Future.succeededFuture(rollout.versions()));
    }

    /**
     * @param live sessions not ending, by route and version
     */
    public record Versions(
            List<RouteConfig> routes,
            Map<String, Map<String, Integer>> live,
            List<Canaries.Status> canaries,
            List<VersionDrains.Status> draining) {}

    /**
     * Everything the registry and its rooms count and hold, for a leak audit: once no session is
     * left and the reaper has run, all of it but the pools is back to zero.
     *
     * @param sessions sessions in the map, in any state
     * @param countedOnRoutes the per-route session counts, summed (equal to {@code sessions})
     * @param clientSlots sessions counted against client addresses
     * @param clientAddresses addresses holding at least one session
     * @param takingOver take-overs from other gateways in flight
     * @param launches launches running or waiting for a slot
     * @param pooled idle backends in the warm pools
     */
    public record Holdings(
            int sessions,
            int countedOnRoutes,
            int clientSlots,
            int clientAddresses,
            int takingOver,
            int launches,
            int pooled) {}

    /** What the registry holds now, on the caller's loop. */
    public Future<Holdings> holdings() {
        return onControl(() -> Future.succeededFuture(new Holdings(
                registry.size(),
                registry.countedOnRoutes(),
                admission.clientSlots(),
                admission.clientAddresses(),
                adoption.takingOver(),
                services.gate().inFlight(),
                pools.idle())));
    }

    private <T> Future<T> onControl(java.util.function.Supplier<Future<T>> task) {
        return EventLoops.call(services.control(), task);
    }

    // --- for the verticle's lifecycle: each must already run on the control loop

    /**
     * Swaps in a reloaded config, already validated and prepared for by the launcher: new sessions
     * follow its routes from now on, while every existing session keeps its backend and the route
     * it started with. A route whose settings changed gets a new warm pool (the old one's idle
     * backends are stopped); versions no longer run start draining by their route's policy.
     * Returns a summary for the log.
     */
    public String apply(BerthConfig next) {
        String changes = Rollout.changes(config, next);
        pools.closeChanged(next);
        rollout.forgetDrainedCanaries(next);
        config = next;
        rollout.configureCanaries(next);
        pools.open(next.routes());
        fillPools();
        rollout.reviewDrains();
        return changes;
    }

    /** Adopts what the engine runs and no session holds; completes once every one is registered. */
    public Future<Integer> discover() {
        return adoption.discover();
    }

    /** Starts filling the warm pools (after the backends already on the engine were adopted). */
    public void fillPools() {
        pools.fill();
    }

    /** Looks at the engine every {@code sessions.reapInterval}, so nothing a failure left stays behind. */
    public void startReaping() {
        reaper.start(config.sessions().reapInterval());
    }

    /** Stops taking connections, for a graceful shutdown (see {@link Admission#drain}); from any thread. */
    public void drain() {
        admission.drain();
    }

    /** Sessions with a client attached. */
    public int attached() {
        return (int) registry.all().stream()
                .filter(session -> session.state() == SessionState.ATTACHED)
                .count();
    }

    /**
     * At shutdown: with {@code keepBackends}, lets every session go with its backend still running
     * (a new gateway adopts it); otherwise ends every session and stops its backend. Completes when
     * done (stop failures are logged by the launcher: a shutdown goes on regardless).
     */
    public Future<Void> shutdown(boolean keepBackends) {
        reaper.stop();
        Future<Void> sessions = registry.shutdown(keepBackends);
        Future<Void> pooled = pools.close(keepBackends);
        return Future.join(sessions, pooled).<Void>mapEmpty().otherwiseEmpty();
    }
}
