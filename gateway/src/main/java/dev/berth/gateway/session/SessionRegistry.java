package dev.berth.gateway.session;

import dev.berth.gateway.failure.Failure;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The sessions of this gateway, by public key: the only place they are added and forgotten. A
 * session leaves when it is gone, and only if the registry still maps its key to that very
 * session. Every method runs on the control loop, but {@link #count}; the rooms around it read it
 * through {@link SessionView}, and the edge and the admin API reach it through {@link Sessions}.
 */
final class SessionRegistry implements SessionView {

    /**
     * What the registry and the rooms around it log under, so that their lines read as they did
     * before the rooms had classes of their own.
     */
    static final Logger LOG = Logger.getLogger(SessionRegistry.class.getName());

    private final Map<String, Session> byKey = new HashMap<>();
    private final Collection<Session> all = Collections.unmodifiableCollection(byKey.values());
    private final Map<String, Integer> countByRoute = new HashMap<>();
    /** The size of the map, kept on the control loop for gauges read on other threads. */
    private final AtomicInteger count = new AtomicInteger();
    /** Told of each session forgotten, after it left the map (its client address's slot is freed). */
    private final Consumer<Session> forgotten;

    SessionRegistry(Consumer<Session> forgotten) {
        this.forgotten = forgotten;
    }

    /** Holds {@code session} under its key, in place of any session gone from under that key. */
    Session register(Session session) {
        byKey.put(session.id().key(), session);
        countByRoute.merge(session.route().name(), 1, Integer::sum);
        count.set(byKey.size());
        return session;
    }

    /**
     * An arrival at the session {@code id} names, for a client that came back with its token: the
     * live one on {@code route} that its last client did not close for good; null when there is none.
     */
    Arrival join(SessionId id, String route, String token) {
        Session live = byKey.get(id.key());
        return live != null && live.joinable() && live.route().name().equals(route) ? live.arrive(token) : null;
    }

    /** Lets go of {@code session} once it is gone; its own {@code onGone}. */
    void forget(Session session) {
        if (byKey.remove(session.id().key(), session)) {
            countByRoute.merge(session.route().name(), -1, Integer::sum);
            count.set(byKey.size());
            forgotten.accept(session);
        }
    }

    /**
     * At shutdown: with {@code keepBackends}, lets every live session go with its backend still
     * running (a new gateway adopts it); otherwise ends every session and stops its backend.
     * Completes when done, failed if any could not be.
     */
    Future<Void> shutdown(boolean keepBackends) {
        List<Future<Void>> stops = new ArrayList<>();
        for (Session session : List.copyOf(byKey.values())) {
            if (keepBackends && session.live()) {
                stops.add(session.handOff());
            } else {
                stops.add(session.end(Failure.SHUTDOWN, "the gateway is shutting down (sessions.onShutdown: end)"));
            }
        }
        return Future.join(stops).mapEmpty();
    }

    /** The number of sessions; read from any thread, for gauges. */
    int count() {
        return count.get();
    }

    /** The per-route counts, summed (equal to {@link #size}), for a leak audit. */
    int countedOnRoutes() {
        return countByRoute.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public Session get(String key) {
        return byKey.get(key);
    }

    @Override
    public Collection<Session> all() {
        return all;
    }

    @Override
    public int size() {
        return byKey.size();
    }

    @Override
    public int onRoute(String route) {
        return countByRoute.getOrDefault(route, 0);
    }
}
