package dev.berth.gateway.launcher;

import static dev.berth.gateway.launcher.EngineLabels.MANAGED_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.ROUTE_LABEL;
import static dev.berth.gateway.launcher.EngineLabels.SESSION_LABEL;

import dev.berth.gateway.config.RouteConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.PodResource;
import java.util.logging.Logger;

/**
 * One try at taking a session's pod over from the gateway holding it: read it by its labels, then
 * set its {@code berth.gateway} label with an update carrying the resourceVersion it was read at,
 * the API server's compare-and-set. Of two gateways taking it at once, one update wins and the
 * other is answered 409 Conflict: that one is {@link TakeOverRetry.Lost}, and looks again.
 */
final class KubernetesTakeOver {

    private static final Logger LOG = Logger.getLogger(KubernetesTakeOver.class.getName());

    private KubernetesTakeOver() {}

    /** Blocking: the pod, now held by {@code owner}; null when the namespace has none for the session. */
    static Pod attempt(
            NonNamespaceOperation<Pod, PodList, PodResource> pods, RouteConfig route, String sessionKey, String owner) {
        // By its labels: a claimed pool pod keeps its pool name.
        Pod pod = pods
                .withLabel(MANAGED_LABEL, "true")
                .withLabel(ROUTE_LABEL, route.name())
                .withLabel(SESSION_LABEL, sessionKey)
                .list()
                .getItems()
                .stream()
                .findFirst()
                .orElse(null);
        if (pod == null) {
            return null;
        }
        String holder = KubernetesPods.holder(pod);
        if (holder.equals(owner)) {
            return pod;
        }
        try {
            Pod taken = pods.resource(KubernetesPods.heldBy(pod, owner)).update();
            LOG.info("took session " + sessionKey + " over from gateway " + holder + " (pod "
                    + pod.getMetadata().getName() + ")");
            return taken;
        } catch (KubernetesClientException refused) {
            if (refused.getCode() == 409 || refused.getCode() == 404) {
                LOG.info("session " + sessionKey + ": pod " + pod.getMetadata().getName()
                        + " changed while taken over (" + refused.getCode() + "): reading it again");
                throw new TakeOverRetry.Lost();
            }
            throw refused;
        }
    }
}
