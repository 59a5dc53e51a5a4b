package dev.berth.gateway.launcher;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * How a starting pod's progress reaches its launch: the namespace's events, as {@code kubectl
 * describe pod} shows them. The scheduler's {@code Scheduled} and the kubelet's {@code Pulling}
 * become the session's {@code scheduled} and {@code pulling} phases (docs/sessions.md); the pod's
 * own watch says when it runs. A plain watch from the moment it starts, not an informer: events are
 * many, and one told before the launch began tells it nothing, so none is cached. When the API
 * server ends the watch (its history expired), it starts again from a fresh list.
 */
final class KubernetesEvents {

    private static final Logger LOG = Logger.getLogger(KubernetesEvents.class.getName());
    private static final long RESTART_DELAY_MS = 1_000;
    private static final long RESTART_DELAY_MAX_MS = 30_000;

    private final Vertx vertx;
    private final KubernetesClient client;
    private final String namespace;
    /** The launches waiting for their pod to run, by pod name. */
    private final Map<String, PodStart> starting = new ConcurrentHashMap<>();

    private volatile Watch watch;
    private volatile boolean closed;

    KubernetesEvents(Vertx vertx, KubernetesClient client, String namespace) {
        this.vertx = vertx;
        this.client = client;
        this.namespace = namespace;
    }

    /** Blocking: watches the events from now on (the resourceVersion of a one-item list). */
    KubernetesEvents start() {
        String now = client.v1()
                .events()
                .inNamespace(namespace)
                .list(new ListOptionsBuilder().withLimit(1L).build())
                .getMetadata()
                .getResourceVersion();
        watch = client.v1()
                .events()
                .inNamespace(namespace)
                .watch(new ListOptionsBuilder().withResourceVersion(now).build(), new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Event event) {
                        if (action == Action.ADDED || action == Action.MODIFIED) {
                            tell(event);
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        LOG.info("the watch on the events of namespace " + namespace + " ended (" + cause.getMessage()
                                + "): starting it again, so starting pods are followed");
                        restartLater(RESTART_DELAY_MS);
                    }
                });
        return this;
    }

    /** Starts the watch again after {@code delay}, and, while the API server does not answer, less often. */
    private void restartLater(long delay) {
        if (closed) {
            return;
        }
        vertx.setTimer(delay, id -> {
            if (closed) {
                return;
            }
            vertx.executeBlocking(this::start, false).onFailure(error -> {
                if (delay == RESTART_DELAY_MS) { // once per outage
                    LOG.warning("cannot watch the events of namespace " + namespace + " (" + error.getMessage()
                            + "): starting pods show no scheduled or pulling phase until it answers");
                }
                restartLater(Math.min(delay * 2, RESTART_DELAY_MAX_MS));
            });
        });
    }

    /**
     * Tells {@code progress}, on {@code context}, the steps of pod {@code name}'s start, each once and
     * in order, until {@link PodStart#done()}: the events arrive on a watch of their own, so one
     * delivered after the pod was seen running is dropped rather than told out of order.
     */
    PodStart follow(String name, LaunchProgress progress, Context context) {
        PodStart start = new PodStart(name, progress, context);
        starting.put(name, start);
        return start;
    }

    private void tell(Event event) {
        ObjectReference about = event.getInvolvedObject();
        if (about == null || !"Pod".equals(about.getKind())) {
            return;
        }
        PodStart start = starting.get(about.getName());
        if (start != null) {
            start.seen(event.getReason());
        }
    }

    void close() {
        closed = true;
        Watch watching = watch;
        if (watching != null) {
            watching.close();
        }
    }

    /** One launch's pod, followed until it runs or fails. */
    final class PodStart {

        private final String name;
        private final LaunchProgress progress;
        private final Context context;
        /** The furthest step told, on {@link #context}: 0 none, 1 scheduled, 2 pulling, 3 done. */
        private int reached;

        private PodStart(String name, LaunchProgress progress, Context context) {
            this.name = name;
            this.progress = progress;
            this.context = context;
        }

        private void seen(String reason) {
            int step = "Scheduled".equals(reason) ? 1 : "Pulling".equals(reason) ? 2 : 0;
            if (step > 0) {
                context.runOnContext(v -> advance(step));
            }
        }

        private void advance(int step) {
            if (step <= reached) {
                return;
            }
            reached = step;
            if (step == 1) {
                progress.scheduled();
            } else {
                progress.pulling();
            }
        }

        /** The pod runs, or its start failed: later events are not told. On {@link #context}. */
        void done() {
            reached = 3;
            starting.remove(name, this);
        }
    }
}
