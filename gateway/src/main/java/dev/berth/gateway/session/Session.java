package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.SessionUser;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.AcceptedClient;
import dev.berth.gateway.pipe.Direction;
import dev.berth.gateway.pipe.SessionPipe;
import dev.berth.gateway.pool.WarmPool;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * One user session as an explicit state machine ({@link SessionState}). The session, not a client
 * connection, owns its backend and the gateway's websocket to it; clients attach and detach. Every
 * transition is logged with the session key and counted.
 *
 * <p>Lives on the gateway's control loop, and so do its clocks; its pipe lives on a data loop (see
 * {@link EventLoops}), and an {@link Arrival} may be used from any loop. {@link #end} runs once and
 * is the only way to ENDING; a session let go of (handed off at shutdown, taken over by another
 * gateway, or not reachable for adoption) goes to GONE directly and leaves its backend running.
 */
public final class Session {

    private static final Logger LOG = Logger.getLogger(Session.class.getName());

    private final SessionId id;
    private final RouteConfig route;
    private final SessionServices services;
    private final Consumer<Session> onGone;
    private final boolean adopted;
    private final Lifetimes lifetimes;
    private final StartClock clock;
    private final LaunchSteps launchSteps = new LaunchSteps();
    private final PipeEvents pipeEvents = new PipeEvents(this);
    private final Promise<Void> connected = Promise.promise();
    private final Promise<Void> over = Promise.promise();
    private SessionState state;
    private final BackendLink link;
    /** The session's client, as it sees it; on the control loop only (see {@link CurrentClient}). */
    private final CurrentClient client = new CurrentClient();

    private Session(
            SessionId id,
            RouteConfig route,
            SessionServices services,
            Consumer<Session> onGone,
            SessionState first,
            boolean adopted,
            Context loop) {
        this.id = id;
        this.route = route;
        this.services = services;
        this.onGone = onGone;
        this.adopted = adopted;
        this.clock = new StartClock(this, services, adopted);
        this.link = new BackendLink(services, route, loop);
        this.lifetimes =
                new Lifetimes(services.vertx(), route, this::end, () -> link.lastDataNanos(clock.createdNanos()));
        this.state = first;
        services.meter().transition(route.name(), first);
    }

    /**
     * A new session, not started yet: the registry holds it and its first client arrives before
     * {@link #launch} begins, since a launch may be over before the call that began it returns.
     *
     * @param clientLoop the loop its first client arrived on, for its pipe
     */
    static Session create(
            SessionId id, RouteConfig route, SessionServices services, Consumer<Session> onGone, Context clientLoop) {
        return new Session(id, route, services, onGone, SessionState.LAUNCHING, false, clientLoop);
    }

    /**
     * Starts a new session: its backend is taken from the warm pool, or launched now when the pool
     * is empty (or there is none), before any client was accepted; its handler serves {@code user}.
     *
     * @return the launch, complete once the backend runs or could not be started
     */
    Future<Backend> launch(WarmPool pool, SessionUser user) {
        LOG.info(this + ": LAUNCHING version " + route.version()
                + (pool == null ? "" : " (" + pool.idle() + " ready in the pool)"));
        services.canaries().started(route);
        Future<Backend> backend = link.launch(id.key(), user, pool, launchSteps);
        lifetimes.start();
        backend.onComplete(launched -> {
            if (launched.succeeded()) {
                connect(launched.result(), "launched " + launched.result().description());
            } else {
                end(
                        FailureException.wrap(launched.cause(), Failure.START_FAILED, "launch")
                                .failure(),
                        launched.cause().getMessage());
            }
        });
        return backend;
    }

    /**
     * A session whose backend outlived an earlier gateway: found on the engine, its client may come
     * back. The registry holds it before {@link #connectAdopted} begins.
     */
    static Session adopt(Backend found, RouteConfig route, SessionServices services, Consumer<Session> onGone) {
        Session session = new Session(
                SessionId.ofKey(found.sessionKey()),
                route,
                services,
                onGone,
                SessionState.CONNECTING,
                true,
                services.loops().next());
        session.link.adopt(found);
        session.client.tokenDelivered(); // its client holds the token from before
        return session;
    }

    /** Whether {@code other} is a handle on this session's own backend. */
    boolean runsOn(Backend other) {
        return link.runsOn(other);
    }

    void connectAdopted() {
        lifetimes.start();
        connect(link.backend(), "adopted " + link.backend().description());
    }

    private void connect(Backend ready, String how) {
        if (!live()) {
            return;
        }
        if (state != SessionState.CONNECTING) {
            moveTo(SessionState.CONNECTING, how);
        } else {
            LOG.info(this + ": CONNECTING (" + how + ")");
        }
        ready.exited().onSuccess(why -> end(Failure.BACKEND_EXITED, why));
        ready.movedAway().onSuccess(this::movedTo);
        clock.backendReady();
        link.dial(ready).onComplete(dialled -> {
            if (!live()) {
                if (dialled.succeeded()) {
                    dialled.result().close();
                }
                return; // ended meanwhile: its end stops the backend
            }
            if (dialled.failed() && adopted) {
                // Maybe still starting (another gateway's launch in progress), maybe broken: not ours to
                // stop. The reaper looks again; a handler no one connects to exits by itself.
                ready.release();
                lifetimes.stopAll();
                connected.tryFail(new FailureException(
                        Failure.UNREACHABLE, dialled.cause().getMessage()));
                gone("not reachable for adoption: " + dialled.cause().getMessage());
                return;
            }
            if (dialled.failed()) {
                end(Failure.UNREACHABLE, dialled.cause().getMessage());
                return;
            }
            link.open(dialled.result(), pipeEvents);
            clock.piped();
            moveTo(SessionState.DETACHED, "piped to its backend");
            awaitClient();
            connected.tryComplete();
        });
    }

    public SessionId id() {
        return id;
    }

    public RouteConfig route() {
        return route;
    }

    public SessionState state() {
        return state;
    }

    /** Whether a client may still join this session. */
    public boolean live() {
        return state.live();
    }

    /**
     * Whether a returning client may join: live, and its last client has not closed it for good (a
     * close frame the session hears of a moment later, through its pipe).
     */
    boolean joinable() {
        return live() && !client.closedForGood();
    }

    /**
     * A client presents this session: the grace period stops now, not once its handshake is done,
     * so a client that came back in time keeps its session however long the handshake takes.
     *
     * @param token the token the client is to hold for the session
     */
    Arrival arrive(String token) {
        lifetimes.stopGrace();
        client.arriving();
        return new Arrival(this, token, connected.future(), launchSteps);
    }

    // --- what its arrivals do, on the control loop

    void onControl(Runnable task) {
        EventLoops.run(services.control(), task);
    }

    CurrentClient currentClient() {
        return client;
    }

    /** An arrival attached or left: it no longer waits, nor watches the launch. */
    void arrivalDone(Consumer<Progress> progressWatcher) {
        client.arrived();
        launchSteps.unwatch(progressWatcher);
    }

    void arrivalLeft() {
        if (live()) {
            awaitClient();
        }
    }

    void attach(Arrival arrival, AcceptedClient accepted) {
        if (!live()) {
            // It ended (or moved to another gateway, where this client was just replaced) between its
            // ready and this client's handshake: the client hears what an attached one did.
            client.tellLate(accepted.socket());
            return;
        }
        client.tokenDelivered();
        if (client.present()) {
            LOG.info(this + ": handover to a newer connection from " + arrival.caller());
        }
        clock.attached();
        client.attach(arrival);
        link.pipe().attach(accepted, route.timeouts().keepalive());
        moveTo(SessionState.ATTACHED, "client " + arrival.caller() + (accepted.resume() ? " (resume protocol)" : ""));
    }

    /**
     * With no client attached or on its way, the session waits for one through the grace period;
     * unless no client ever got its token, and then no one can come back: it ends now.
     */
    private void awaitClient() {
        if (client.onItsWay() || state == SessionState.ATTACHED) {
            return;
        }
        if (!client.holdsToken()) {
            end(Failure.ABANDONED, "the client left before its session was ready, and no one else holds its token");
        } else if (link.pipe() != null) {
            lifetimes.startGrace();
        }
    }

    // --- what its pipe reports, through PipeEvents

    /** The attached client left (or was closed for misbehaving): its socket is let go of. */
    void detach(Failure why, String detail) {
        if (state != SessionState.ATTACHED) {
            return;
        }
        link.pipe()
                .detach(client.socket(), why == null ? 1000 : why.closeCode(), why == null ? "" : why.publicReason());
        client.detach();
        moveTo(
                SessionState.DETACHED,
                detail + "; backend kept " + route.timeouts().grace().toMillis() + "ms for a reconnect");
        awaitClient();
    }

    SessionPipe pipe() {
        return link.pipe();
    }

    Vertx vertx() {
        return services.vertx();
    }

    void firstFrameDelivered() {
        clock.firstFrame(link.pooled());
    }

    // --- the ways out

    /** Ends the session: closes its client with the failure's code, stops its backend. Runs once. */
    public Future<Void> end(Failure why, String detail) {
        return end(why, why.closeCode(), why.publicReason(), detail);
    }

    Future<Void> end(Failure why, int clientCode, String clientReason, String detail) {
        if (!live()) {
            return over.future();
        }
        moveTo(SessionState.ENDING, why.tag() + ": " + detail + link.traffic());
        client.told(clientCode == 0 ? 1000 : clientCode, clientReason);
        services.meter().ended(route.name(), why);
        if (!adopted) {
            services.canaries().failed(route, why);
        }
        lifetimes.stopAll();
        link.withdraw();
        connected.tryFail(new FailureException(why == Failure.CLIENT_ENDED ? Failure.BACKEND_ENDED : why, detail));
        boolean byClient = why == Failure.CLIENT_ENDED;
        link.close(
                        clientCode == 0 ? 1000 : clientCode,
                        clientReason,
                        byClient ? clientCode : 1001,
                        byClient ? clientReason : "session over: " + why.tag())
                .transform(closed -> link.stop())
                .onComplete(stopped -> gone(
                        stopped.succeeded()
                                ? "backend stopped"
                                : "backend not removed (" + stopped.cause().getMessage()
                                        + "); its launcher tries again"));
        return over.future();
    }

    /**
     * Lets go of the session at gateway shutdown without ending it: the client is told to reconnect
     * (1012), the gateway's websocket to the backend is closed, and the backend keeps running for
     * the next gateway to adopt. Completes once both were told (or after a moment), so the gateway
     * closes its listeners only after its clients read their close code.
     */
    public Future<Void> handOff() {
        return letGo(
                Failure.RESTARTING, "gateway restarting", "handed off: the backend keeps running for the next gateway");
    }

    /**
     * Another gateway took the session over (its client came back there): this one's client, if any,
     * is told it was replaced (4001, as for a newer connection here), one still on its way gets 503,
     * and the session lets go of its backend without stopping it.
     */
    private void movedTo(String holder) {
        letGo(Failure.MOVED_AWAY, "taken over by gateway " + holder, "taken over by gateway " + holder);
    }

    private Future<Void> letGo(Failure toClient, String toBackend, String detail) {
        if (!live()) {
            return Future.succeededFuture();
        }
        lifetimes.stopAll();
        client.told(toClient.closeCode(), toClient.publicReason());
        Future<Void> told = link.close(toClient.closeCode(), toClient.publicReason(), 1001, toBackend)
                .otherwiseEmpty();
        gone(detail);
        // After GONE: a client still on its way is refused, and its arrival's release, which may run
        // right here when its loop is this one, must not end (and stop) a backend let go of.
        connected.tryFail(new FailureException(toClient, detail));
        return told;
    }

    private void gone(String detail) {
        moveTo(SessionState.GONE, detail);
        onGone.accept(this);
        over.tryComplete();
    }

    /** Takes a move of {@link SessionState}'s table; any other is a bug, and fails here rather than later. */
    private void moveTo(SessionState next, String detail) {
        state.requireMove(next, this);
        LOG.info(this + ": " + state + " -> " + next + " (" + detail + ")");
        state = next;
        services.meter().transition(route.name(), next);
    }

    SessionSnapshot snapshot() {
        return new SessionSnapshot(
                id.key(),
                route.name(),
                route.version(),
                state,
                (System.nanoTime() - clock.createdNanos()) / 1_000_000_000L,
                link.bytes(Direction.CLIENT_TO_BACKEND),
                link.bytes(Direction.BACKEND_TO_CLIENT),
                null,
                null);
    }

    @Override
    public String toString() {
        return id + " on route " + route.name() + "@" + route.version();
    }
}
