package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.POOL_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.SESSION_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.VERSION_LABEL;

import dev.berth.gateway.config.RouteConfig;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;

/**
 * What the kubernetes launcher finds among its namespace's berth pods: the ones of its routes it
 * holds (by their {@code berth.gateway} label) and has no handle for, running ones to adopt and
 * ended ones to remove; and the share other gateways hold.
 */
final class KubernetesDiscovery {

    private final HeldBackends held;
    private final KnownRoutes routes;
    private final String owner;
    private final KubernetesLauncher.PodAddress dial;

    KubernetesDiscovery(HeldBackends held, KnownRoutes routes, String owner, KubernetesLauncher.PodAddress dial) {
        this.held = held;
        this.routes = routes;
        this.owner = owner;
        this.dial = dial;
    }

    /** Handles on the running pods of {@code found} to adopt; ended ones, and stale pool entries, are removed. */
    List<Backend> adopt(List<Pod> found, HeldBackends.Look look) {
        List<Backend> adopted = new ArrayList<>();
        for (Pod pod : found) {
            String name = pod.getMetadata().getName();
            RouteConfig route = routes.get(KubernetesPods.label(pod, ROUTE_LABEL));
            if (route == null || !KubernetesPods.holder(pod).equals(owner) || look.leavesAlone(name, name)) {
                continue;
            }
            if (KubernetesPods.ended(pod) != null) {
                held.remove(name, route.name());
                continue;
            }
            // A pool entry has no session until claimed; one of a version its route no longer runs goes.
            String key = KubernetesPods.label(pod, SESSION_LABEL);
            boolean pooled = "true".equals(KubernetesPods.label(pod, POOL_LABEL));
            String version = KubernetesPods.label(pod, VERSION_LABEL);
            if (KubernetesPods.running(pod)
                    && (key != null || pooled)
                    && !(pooled && held.removedStale(name, name, key, version, route))) {
                adopted.add(held.handle(name, name, key, route.name(), version, dial.of(pod, route)));
            }
        }
        return adopted;
    }

    /** Other gateways' pods on our routes, running or starting (not ended, not being deleted), in {@code pods}. */
    Elsewhere elsewhere(List<Pod> pods) {
        Elsewhere.Tally counts = new Elsewhere.Tally();
        for (Pod pod : pods) {
            String holder = KubernetesPods.holder(pod);
            String route = KubernetesPods.label(pod, ROUTE_LABEL);
            if (!holder.equals(owner)
                    && routes.contains(route)
                    && KubernetesPods.ended(pod) == null
                    && pod.getMetadata().getDeletionTimestamp() == null) {
                counts.count(route, holder);
            }
        }
        return counts.result();
    }
}
