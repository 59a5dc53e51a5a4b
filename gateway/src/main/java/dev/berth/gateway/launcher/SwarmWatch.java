package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.GATEWAY_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.SwarmServices.TASK_ENDED;
import static dev.berth.gateway.launcher.SwarmServices.labelsOf;
import static dev.berth.gateway.launcher.SwarmServices.why;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the swarm launcher watches its services, the engine reporting no task events: every second,
 * the services this gateway holds whose task ended, or that another gateway took over, are
 * reported; other gateways' services on our routes are counted; and services of our routes whose
 * task ended and that no gateway here holds are removed.
 */
final class SwarmWatch {

    private static final long WATCH_INTERVAL_MS = 1000;

    private final Vertx vertx;
    private final EngineConnection engine;
    private final SwarmServices services;
    private final HeldBackends held;
    private final KnownRoutes routes;
    private final String owner;
    private volatile Elsewhere elsewhere = Elsewhere.NONE;
    private long watchTimer = -1;
    private boolean watching;

    SwarmWatch(
            Vertx vertx,
            EngineConnection engine,
            SwarmServices services,
            HeldBackends held,
            KnownRoutes routes,
            String owner) {
        this.vertx = vertx;
        this.engine = engine;
        this.services = services;
        this.held = held;
        this.routes = routes;
        this.owner = owner;
    }

    void start() {
        watchTimer = vertx.setPeriodic(WATCH_INTERVAL_MS, id -> watch());
    }

    /** What other gateways held on our routes at the last look. */
    Elsewhere elsewhere() {
        return elsewhere;
    }

    private void watch() {
        if (watching) {
            return;
        }
        watching = true;
        Set<String> heldBefore = held.heldNow(); // only these can be judged by what this look finds
        engine.blocking(() -> {
                    List<JsonObject> managed = services.managed();
                    return new Census(managed, services.newestTasks(), heldBefore);
                })
                .onComplete(census -> {
                    watching = false;
                    if (census.succeeded()) {
                        census.result().report();
                    }
                });
    }

    /** One look at the swarm's services and their newest tasks. */
    private final class Census {
        private final List<JsonObject> services;
        private final Map<String, JsonObject> newestTask;
        private final Set<String> heldBefore;

        Census(List<JsonObject> services, Map<String, JsonObject> newestTask, Set<String> heldBefore) {
            this.services = services;
            this.newestTask = newestTask;
            this.heldBefore = heldBefore;
        }

        void report() {
            Elsewhere.Tally counts = new Elsewhere.Tally();
            Set<String> present = new HashSet<>();
            for (JsonObject service : services) {
                String id = service.getString("ID");
                present.add(id);
                JsonObject labels = labelsOf(service);
                String holder = labels.getString(GATEWAY_LABEL, "");
                JsonObject task = newestTask.get(id);
                String state = task == null
                        ? "new"
                        : task.getJsonObject("Status", new JsonObject()).getString("State", "new");
                if (!holder.equals(owner)
                        && !TASK_ENDED.contains(state)
                        && routes.contains(labels.getString(ROUTE_LABEL))) {
                    counts.count(labels.getString(ROUTE_LABEL), holder);
                }
                if (TASK_ENDED.contains(state) && !held.holds(id) && routes.contains(labels.getString(ROUTE_LABEL))) {
                    // Not one this gateway holds (a dead gateway's, whose handler ended by itself): over anyway.
                    held.remove(id, labels.getString(ROUTE_LABEL));
                    continue;
                }
                if (!heldBefore.contains(id)) {
                    continue; // taken or launched while this look was under way: it may predate that
                }
                if (!holder.equals(owner) && held.holds(id)) {
                    held.movedTo(id, holder);
                } else if (TASK_ENDED.contains(state) && held.holds(id)) {
                    Integer code = task.getJsonObject("Status")
                            .getJsonObject("ContainerStatus", new JsonObject())
                            .getInteger("ExitCode");
                    held.exited(id, "task " + state + (code == null ? "" : " with status " + code) + ": " + why(task));
                }
            }
            heldBefore.stream()
                    .filter(id -> !present.contains(id))
                    .forEach(id -> held.exited(id, "its service was removed"));
            elsewhere = counts.result();
        }
    }

    void stop() {
        vertx.cancelTimer(watchTimer);
    }
}
