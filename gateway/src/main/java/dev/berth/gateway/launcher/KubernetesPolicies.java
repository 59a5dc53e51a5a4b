package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.util.List;
import java.util.Map;

/**
 * The NetworkPolicies of the session pods in one namespace, made or updated when routes are
 * prepared: {@value #SESSIONS} lets session pods take connections from the gateways' pods only
 * (labelled {@value #GATEWAY_POD_LABEL}={@value #GATEWAY_POD_VALUE}) and reach nothing; a route with
 * {@code docker.egress: open} gets {@code berth-egress-<route>}, which lets its pods reach anything
 * (policies add up). A route back to {@code egress: none} loses its policy. They hold only where
 * the cluster's network plugin enforces NetworkPolicies.
 */
final class KubernetesPolicies {

    static final String SESSIONS = "berth-sessions";
    static final String GATEWAY_POD_LABEL = "app.kubernetes.io/name";
    static final String GATEWAY_POD_VALUE = "berth-gateway";

    private KubernetesPolicies() {}

    /** Blocking: makes the namespace's policies what {@code routes} ask for. */
    static void apply(KubernetesClient client, String namespace, List<RouteConfig> routes) {
        var policies = client.network().v1().networkPolicies().inNamespace(namespace);
        policies.resource(sessions()).createOr(NonDeletingOperation::update);
        for (RouteConfig route : routes) {
            if (route.sandbox().egress() == RouteConfig.Egress.OPEN) {
                policies.resource(egress(route.name())).createOr(NonDeletingOperation::update);
            } else {
                policies.withName(egressName(route.name())).delete();
            }
        }
    }

    static NetworkPolicy sessions() {
        return new NetworkPolicyBuilder()
                .withNewMetadata()
                .withName(SESSIONS)
                .addToLabels(EngineLabels.MANAGED_LABEL, "true")
                .endMetadata()
                .withNewSpec()
                .withNewPodSelector()
                .withMatchLabels(Map.of(EngineLabels.MANAGED_LABEL, "true"))
                .endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .addNewIngress()
                .addNewFrom()
                .withNewPodSelector()
                .withMatchLabels(Map.of(GATEWAY_POD_LABEL, GATEWAY_POD_VALUE))
                .endPodSelector()
                .endFrom()
                .endIngress()
                .endSpec()
                .build();
    }

    static NetworkPolicy egress(String route) {
        return new NetworkPolicyBuilder()
                .withNewMetadata()
                .withName(egressName(route))
                .addToLabels(EngineLabels.MANAGED_LABEL, "true")
                .endMetadata()
                .withNewSpec()
                .withNewPodSelector()
                .withMatchLabels(Map.of(EngineLabels.MANAGED_LABEL, "true", EngineLabels.ROUTE_LABEL, route))
                .endPodSelector()
                .withPolicyTypes("Egress")
                .addNewEgress()
                .endEgress()
                .endSpec()
                .build();
    }

    static String egressName(String route) {
        return "berth-egress-" + route;
    }
}
