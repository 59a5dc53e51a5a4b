package dev.berth.gateway.session;

import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.AcceptedClient;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import java.util.function.Consumer;

/**
 * A client connection that presented its session (or opened one) on its way to being attached;
 * exactly one of {@link #attach} or {@link #release} ends it. Usable from the client's loop: its
 * calls hop to the session's, the control loop, where all of its state lives.
 */
public final class Arrival {

    private final Session session;
    private final String token;
    /** The session's connection to its backend, and the launch steps its client may watch. */
    private final Future<Void> piped;

    private final LaunchSteps launchSteps;
    private boolean done;
    private Consumer<Progress> progressWatcher;
    /** Whom it is from, for the log. */
    private Caller caller;
    /** Its websocket, once attached. */
    private ServerWebSocket socket;
    /**
     * Set by {@link CurrentClient} before a newer connection's handover closes this one with 4001, so
     * the client's echo of that close ends nothing.
     */
    boolean replaced;

    Arrival(Session session, String token, Future<Void> piped, LaunchSteps launchSteps) {
        this.session = session;
        this.token = token;
        this.piped = piped;
        this.launchSteps = launchSteps;
    }

    Arrival from(Caller who) {
        caller = who;
        return this;
    }

    Caller caller() {
        return caller;
    }

    /** The session's token, for the client to present when it comes back. */
    public String token() {
        return token;
    }

    /**
     * Completes once the session is piped to its backend, on the caller's loop; fails with why it
     * never will be.
     */
    public Future<Void> ready() {
        return EventLoops.here(piped);
    }

    /**
     * Tells {@code watcher} each step of the launch until the session is ready (those so far at
     * once), on the session's loop; ready itself is {@link #ready()}. A session already piped has
     * no steps to tell.
     */
    public void watchProgress(Consumer<Progress> watcher) {
        session.onControl(() -> {
            progressWatcher = watcher;
            launchSteps.watch(watcher, !piped.isComplete());
        });
    }

    /**
     * The client sent a close frame that ends the session; from its own loop, as the frame arrives
     * and before Vert.x answers it. Its session hears of it before the client can come back: the
     * hop is queued on the control loop ahead of any reconnect's.
     */
    public void clientEnding() {
        session.onControl(() -> session.currentClient().closedForGood(this));
    }

    /** Attaches the accepted client; a client already attached is closed with 4001 (handover). */
    public void attach(AcceptedClient accepted) {
        session.onControl(() -> {
            if (!finish()) {
                accepted.socket().close((short) 1011, "session claim already used");
                return;
            }
            socket = accepted.socket();
            session.attach(this, accepted);
        });
    }

    /** The client left, or was refused, before it was attached. */
    public void release() {
        session.onControl(() -> {
            if (finish()) {
                session.arrivalLeft();
            }
        });
    }

    ServerWebSocket socket() {
        return socket;
    }

    private boolean finish() {
        if (done) {
            return false;
        }
        done = true;
        session.arrivalDone(progressWatcher);
        return true;
    }
}
