package dev.berth.gateway.session;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.EngineStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Which session an arriving client gets, and whether it gets one: the live one its token names,
 * one taken over from another gateway, or a new one, checked before anything is launched against
 * the gateway's, the route's and the client address's session limits, the client's rate, room in
 * the launch queue, an operator's pause and a drain for shutdown. On the control loop, but
 * {@link #check} and {@link #accepting}.
 */
final class Admission {

    private static final Logger LOG = SessionRegistry.LOG;

    private final SessionServices services;
    private final Supplier<BerthConfig> config;
    private final SessionRegistry registry;
    private final OtherGateways others;
    private final Pools pools;
    private final Adoption adoption;
    private final ClientAdmission clients;
    private final UserAdmission users;
    /** Whom each session was opened for (adopted sessions have no one until a client is back). */
    private final Map<String, Caller> callerByKey = new HashMap<>();
    /** Read by the edge's loops for readiness. */
    private volatile boolean draining;

    private boolean paused;

    Admission(
            SessionServices services,
            Supplier<BerthConfig> config,
            SessionRegistry registry,
            OtherGateways others,
            Pools pools,
            Adoption adoption) {
        this.services = services;
        this.config = config;
        this.registry = registry;
        this.others = others;
        this.pools = pools;
        this.adoption = adoption;
        this.clients = new ClientAdmission(config.get().sessions());
        this.users = new UserAdmission(config.get().sessions().perUserMaxSessions());
    }

    /** Refuses a flood from one address where it arrives, on the edge's loop, before any hop. */
    void check(String client) {
        clients.check(client);
    }

    /**
     * An arrival at the session a connection is for: the live one its token names on this route, else
     * a new one. A token this gateway did not issue for this route, or that expired, is refused with
     * {@link Failure#INVALID_TOKEN} before any lookup; a valid token whose session is gone (its
     * backend exited, or it ended), or that was issued to another user, gets a new session and token.
     * On a route whose sessions are for users, a signed-in user without a token joins their own.
     *
     * @param caller the client's address (per-client admission) and signed-in user, if any
     * @param clientLoop the loop the client arrived on, where a new session's frames will travel
     */
    Future<Arrival> arrive(String presentedToken, RouteConfig route, Caller caller, Context clientLoop) {
        if (draining) {
            throw new FailureException(
                    Failure.DRAINING, "the gateway is draining for shutdown (sessions.drainDeadline)");
        }
        return arrival(presentedToken, route, caller, clientLoop).map(arrival -> arrival.from(caller));
    }

    private Future<Arrival> arrival(String presentedToken, RouteConfig route, Caller caller, Context clientLoop) {
        if (presentedToken == null) {
            return Future.succeededFuture(ownOrNew(route, caller, clientLoop, false));
        }
        SessionTokens.Presented presented = services.tokens()
                .check(presentedToken, route.name(), caller.user())
                .orElseThrow(() -> new FailureException(
                        Failure.INVALID_TOKEN,
                        "a session token from " + caller + " that is malformed, forged, expired or for another route"));
        SessionId id = presented.id();
        if (!presented.sameUser()) {
            LOG.warning("a client from " + caller + " presented the token of session " + id.key()
                    + ", which was issued to another user (or to no one): it gets a session of its own");
            return Future.succeededFuture(ownOrNew(route, caller, clientLoop, false));
        }
        Arrival joined = registry.join(id, route.name(), presentedToken);
        if (joined != null) {
            if (callerByKey.putIfAbsent(id.key(), caller) == null) {
                // Adopted at start, its first client back: from now on counted and shown as its.
                clients.returned(caller.address());
                users.held(caller.user());
            }
            return Future.succeededFuture(joined);
        }
        Session held = registry.get(id.key());
        if (held == null) {
            // A look on the engine costs what a new session does, and valid tokens outlive their
            // sessions: admission first, engine after, or replayed tokens would starve real launches.
            clients.admit(caller.address());
            return adoption.takeOver(id.key(), route)
                    .map(taken -> {
                        if (taken != null && taken.joinable()) {
                            if (callerByKey.putIfAbsent(id.key(), caller) != null) {
                                clients.released(
                                        caller.address()); // another client of the session came first and is counted
                            } else {
                                users.held(caller.user());
                            }
                            return taken.arrive(presentedToken);
                        }
                        clients.released(caller.address());
                        LOG.info("a client came back for session " + id.key()
                                + ", which no gateway holds: it gets a new session");
                        return ownOrNew(route, caller, clientLoop, true);
                    })
                    .onFailure(error -> clients.released(caller.address()));
        }
        LOG.info("a client came back for session " + id.key() + ", which is " + held.state()
                + ": it gets a new session");
        return Future.succeededFuture(ownOrNew(route, caller, clientLoop, false));
    }

    /**
     * On a route whose sessions are for users ({@code sessionFor: user}), the signed-in user's live
     * session there, which this client takes over; otherwise a new session.
     */
    private Arrival ownOrNew(RouteConfig route, Caller caller, Context clientLoop, boolean rateCounted) {
        if (route.sessionFor() == RouteConfig.SessionFor.USER && caller.user() != null) {
            for (Map.Entry<String, Caller> owned : callerByKey.entrySet()) {
                Session session = registry.get(owned.getKey());
                if (owned.getValue().user() != null
                        && owned.getValue().user().name().equals(caller.user().name())
                        && session != null
                        && session.id().token() != null
                        && session.joinable()
                        && session.route().name().equals(route.name())) {
                    if (rateCounted) {
                        clients.released(caller.address()); // counted for a look that found nothing
                    }
                    LOG.info(caller + " joins " + session.id() + ", the user's session on route " + route.name());
                    return session.arrive(session.id().token());
                }
            }
        }
        return open(route, caller, clientLoop, rateCounted);
    }

    /**
     * A new session on {@code route}, its first client arrived and its backend launching, if every
     * admission limit allows it.
     *
     * @param rateCounted whether this request was already counted against the client's rate (a look for a gone session)
     */
    private Arrival open(RouteConfig route, Caller caller, Context clientLoop, boolean rateCounted) {
        requireRoom(route);
        String client = caller.address();
        clients.requireStartRoom(client);
        users.requireRoom(caller.user());
        if (rateCounted) {
            clients.hold(client);
        } else {
            clients.admit(client);
        }
        users.held(caller.user());
        SessionId id = services.tokens().issue(route.name(), route.timeouts().maxLifetime(), caller.user());
        callerByKey.put(id.key(), caller);
        RouteConfig version = services.canaries().choose(route);
        Session session = registry.register(Session.create(
                id,
                version,
                services,
                registry::forget,
                clientLoop != null ? clientLoop : services.loops().next()));
        Arrival first = session.arrive(id.token());
        clients.starting(client);
        session.launch(version == route ? pools.of(route.name()) : null, caller.user())
                .onComplete(launched -> clients.started(client));
        return first;
    }

    /** Fails with why a new session on {@code route} may not start now, whoever asks for it. */
    private void requireRoom(RouteConfig route) {
        if (paused) {
            throw new FailureException(Failure.ADMISSIONS_PAUSED, "an operator paused admissions (admin API)");
        }
        EngineStatus engine = services.launcher().engineStatus();
        if (engine.stalled()) {
            throw new FailureException(
                    Failure.ENGINE_UNAVAILABLE,
                    "the engine takes calls and does not answer them (" + engine.detail()
                            + "); new sessions wait until it answers again");
        }
        int maxSessions = config.get().sessions().maxSessions();
        if (registry.size() + others.total() >= maxSessions) {
            throw new FailureException(
                    Failure.GATEWAY_FULL,
                    "the gateways hold their maximum of " + maxSessions + " sessions (sessions.maxSessions; "
                            + registry.size() + " on this one)");
        }
        if (registry.onRoute(route.name()) + others.onRoute(route.name()) >= route.maxSessions()) {
            throw new FailureException(
                    Failure.CAPACITY,
                    "route " + route.name() + " holds its maximum of "
                            + route.maxSessions() + " sessions (" + route.key("maxSessions") + "; "
                            + registry.onRoute(route.name()) + " on this gateway)");
        }
        if (!services.gate().hasRoom()) {
            throw new FailureException(
                    Failure.LAUNCH_QUEUE_FULL,
                    "launches run and wait at their limits "
                            + "(sessions.launches.maxConcurrent, sessions.launches.queue)");
        }
    }

    /** A session left the registry: the address (and user) it was opened for holds one session fewer. */
    void forgotten(Session session) {
        Caller caller = callerByKey.remove(session.id().key());
        if (caller != null) {
            clients.released(caller.address());
            users.released(caller.user());
        }
    }

    /** Whom session {@code key} was opened for (or taken over by) here; null for one adopted and not yet back. */
    Caller callerOf(String key) {
        return callerByKey.get(key);
    }

    /** Forgets what addresses that hold no session left behind (the reaper's round). */
    void prune() {
        clients.prune();
    }

    /**
     * Stops taking connections, for a graceful shutdown: every arrival from now on is refused with
     * {@link Failure#DRAINING}, and readiness says so; sessions and their attached clients go on.
     */
    void drain() {
        draining = true;
    }

    /** Whether the gateway takes new connections (readiness); read from any thread. */
    boolean accepting() {
        return !draining;
    }

    /** Pauses or resumes new sessions; sessions that exist still take their clients back. */
    void pause(boolean pause) {
        if (pause != paused) {
            LOG.info(
                    pause
                            ? "admissions paused by the operator: no new session starts until resumed"
                            : "admissions resumed by the operator");
        }
        paused = pause;
    }

    boolean paused() {
        return paused;
    }

    /** Sessions counted against client addresses, over all of them, for a leak audit. */
    int clientSlots() {
        return clients.slots();
    }

    /** Addresses holding at least one session, for a leak audit. */
    int clientAddresses() {
        return clients.addresses();
    }
}
