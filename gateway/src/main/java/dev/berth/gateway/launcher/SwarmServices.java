package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.SESSION_LABEL;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The swarm's services and their tasks, as the swarm launcher reads and changes them through
 * {@link EngineConnection#api}. Every call blocks.
 */
final class SwarmServices {

    static final Set<String> TASK_ENDED = Set.of("complete", "failed", "shutdown", "rejected", "orphaned", "remove");

    private final EngineConnection engine;

    SwarmServices(EngineConnection engine) {
        this.engine = engine;
    }

    /** Every service Berth manages on the swarm, whichever gateway holds it. */
    List<JsonObject> managed() {
        JsonArray services = (JsonArray) engine.api(
                "GET",
                "/services?filters="
                        + filters(new JsonObject().put("label", new JsonArray().add(MANAGED_LABEL + "=true"))),
                null);
        return services.stream().map(JsonObject.class::cast).toList();
    }

    /** The services of session {@code sessionKey} on route {@code route}. */
    JsonArray ofSession(String route, String sessionKey) {
        return (JsonArray) engine.api(
                "GET",
                "/services?filters="
                        + filters(new JsonObject()
                                .put(
                                        "label",
                                        new JsonArray()
                                                .add(ROUTE_LABEL + "=" + route)
                                                .add(SESSION_LABEL + "=" + sessionKey))),
                null);
    }

    /**
     * Changes a service's labels from its current version; throws {@link EngineConnection.EngineRefusal}
     * (out of sequence) when someone changed it meanwhile. Returns the service as it was.
     */
    JsonObject relabel(String serviceId, UnaryOperator<JsonObject> change) {
        JsonObject service = (JsonObject) engine.api("GET", "/services/" + serviceId, null);
        JsonObject spec = service.getJsonObject("Spec").copy();
        spec.put(
                "Labels",
                change.apply(spec.getJsonObject("Labels", new JsonObject()).copy()));
        long version = service.getJsonObject("Version").getLong("Index");
        engine.api("POST", "/services/" + serviceId + "/update?version=" + version, spec);
        return service;
    }

    static JsonObject labelsOf(JsonObject service) {
        return service.getJsonObject("Spec").getJsonObject("Labels", new JsonObject());
    }

    /** The newest task of a service, or null before the scheduler made one. */
    JsonObject taskOf(String serviceId) {
        JsonArray tasks = (JsonArray) engine.api(
                "GET",
                "/tasks?filters=" + filters(new JsonObject().put("service", new JsonArray().add(serviceId))),
                null);
        JsonObject newest = null;
        for (Object each : tasks) {
            JsonObject task = (JsonObject) each;
            if (newest == null || task.getString("CreatedAt", "").compareTo(newest.getString("CreatedAt", "")) > 0) {
                newest = task;
            }
        }
        return newest;
    }

    /** The newest task of every service, by service id. */
    Map<String, JsonObject> newestTasks() {
        JsonArray tasks = (JsonArray) engine.api("GET", "/tasks", null);
        Map<String, JsonObject> newestTask = new HashMap<>();
        for (Object each : tasks) {
            JsonObject task = (JsonObject) each;
            newestTask.merge(
                    task.getString("ServiceID"),
                    task,
                    (a, b) -> a.getString("CreatedAt", "").compareTo(b.getString("CreatedAt", "")) >= 0 ? a : b);
        }
        return newestTask;
    }

    /** Why a task is in its state, as the swarm says. */
    static String why(JsonObject task) {
        JsonObject status = task.getJsonObject("Status", new JsonObject());
        String err = status.getString("Err", "");
        return err.isEmpty() ? status.getString("Message", "") : err;
    }

    private static String filters(JsonObject filters) {
        return URLEncoder.encode(filters.encode(), StandardCharsets.UTF_8);
    }
}
