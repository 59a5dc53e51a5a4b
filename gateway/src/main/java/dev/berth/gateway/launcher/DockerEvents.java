package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.Closeable;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * How the docker launcher watches its containers: the engine's event stream of their deaths, out
 * of memory kills and renames. Events arrive on a docker-java thread and are handed back to the
 * launcher's context. A broken stream is opened again with a growing delay, asking for what it
 * missed.
 */
final class DockerEvents {

    /** What the stream reports, on the launcher's context. */
    interface Listener {
        /** A container was renamed: another gateway may have taken it over. */
        void renamed(String id, String newName);

        /** A container of one of this gateway's routes died. */
        void died(String id, String route, String exitCode, boolean killedForMemory);
    }

    /** Its lines are the docker launcher's, as they always were. */
    private static final Logger LOG = Logger.getLogger(DockerLauncher.class.getName());

    private static final long MIN_RECONNECT_DELAY_MS = 500;
    private static final long MAX_RECONNECT_DELAY_MS = 30_000;

    private final Vertx vertx;
    private final Context context;
    private final DockerClient events;
    private final KnownRoutes routes;
    private final EngineWatch watch;
    private final Listener listener;
    /** Containers the engine reported out of memory, until their death is reported. */
    private final Set<String> outOfMemory = new HashSet<>();

    private Closeable eventStream;
    private Instant eventsLostSince;
    private long reconnectDelayMs = MIN_RECONNECT_DELAY_MS;
    private boolean closed;

    DockerEvents(Vertx vertx, DockerClient events, KnownRoutes routes, EngineWatch watch, Listener listener) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.events = events;
        this.routes = routes;
        this.watch = watch;
        this.listener = listener;
    }

    void watchDeaths() {
        var command = events.eventsCmd()
                .withEventTypeFilter(EventType.CONTAINER)
                .withEventFilter("die", "oom", "rename")
                .withLabelFilter(Map.of(MANAGED_LABEL, "true"));
        if (eventsLostSince != null) {
            command.withSince(Long.toString(eventsLostSince.getEpochSecond())); // replay deaths we missed
        }
        eventStream = command.exec(new ResultCallback.Adapter<Event>() {
            /** A broken stream may report both an error and its completion: reconnect once. */
            private final AtomicBoolean ended = new AtomicBoolean();

            @Override
            public void onStart(Closeable stream) {
                super.onStart(stream);
                context.runOnContext(v -> {
                    eventsLostSince = null;
                    reconnectDelayMs = MIN_RECONNECT_DELAY_MS;
                });
            }

            @Override
            public void onNext(Event event) {
                if ("oom".equals(event.getAction())) {
                    context.runOnContext(v -> outOfMemory.add(event.getId()));
                    return;
                }
                Map<String, String> attributes =
                        event.getActor() == null ? Map.of() : event.getActor().getAttributes();
                if ("rename".equals(event.getAction())) {
                    context.runOnContext(v -> listener.renamed(event.getId(), attributes.getOrDefault("name", "")));
                    return;
                }
                if (routes.contains(attributes.get(ROUTE_LABEL))) { // other routes: another gateway's to clean up
                    context.runOnContext(v -> listener.died(
                            event.getId(),
                            attributes.get(ROUTE_LABEL),
                            attributes.get("exitCode"),
                            outOfMemory.remove(event.getId())));
                }
            }

            @Override
            public void onError(Throwable error) {
                if (ended.compareAndSet(false, true)) {
                    context.runOnContext(v -> eventStreamBroke(error.getMessage()));
                }
            }

            @Override
            public void onComplete() {
                if (ended.compareAndSet(false, true)) {
                    context.runOnContext(v -> eventStreamBroke("the engine ended it"));
                }
            }
        });
    }

    /** Reconnects with a growing delay while the engine is away, asking for the deaths missed. */
    private void eventStreamBroke(String why) {
        if (closed) {
            return;
        }
        if (eventsLostSince == null) {
            eventsLostSince = Instant.now();
        }
        watch.eventStreamReconnecting();
        long delay = reconnectDelayMs;
        reconnectDelayMs = Math.min(reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
        LOG.warning("lost the engine's event stream (" + why + "); reconnecting in " + delay + "ms");
        vertx.setTimer(delay, id -> {
            if (!closed) {
                watchDeaths();
            }
        });
    }

    /** Opens the stream no more when it breaks. */
    void stop() {
        closed = true;
    }

    Future<Void> close() {
        closed = true;
        return vertx.executeBlocking(
                        () -> {
                            if (eventStream != null) {
                                eventStream.close();
                            }
                            return null;
                        },
                        false)
                .mapEmpty();
    }
}
