package dev.berth.gateway.launcher;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.vertx.core.Context;
import java.util.function.BiConsumer;

/**
 * How the kubernetes launcher watches its pods: an informer on the namespace's {@code berth.managed}
 * pods (a list, then a watch, re-listed by the client when the watch breaks, so no end is missed).
 * A pod whose handler ended, or a pod removed (by anyone), is reported with why, and a pod another
 * gateway took over with its new holder, on the launcher's context.
 */
final class KubernetesWatch {

    private final SharedIndexInformer<Pod> informer;

    /**
     * @param ended called with the pod's name and why it ended, on {@code context}
     * @param held called with the pod's name and the gateway holding it, when that changed
     */
    KubernetesWatch(
            KubernetesClient client,
            String namespace,
            Context context,
            BiConsumer<String, String> ended,
            BiConsumer<String, String> held) {
        this.informer = client.pods()
                .inNamespace(namespace)
                .withLabel(EngineLabels.MANAGED_LABEL, "true")
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        report(pod);
                    }

                    @Override
                    public void onUpdate(Pod before, Pod pod) {
                        String holder = KubernetesPods.holder(pod);
                        if (!holder.equals(KubernetesPods.holder(before))) {
                            String name = pod.getMetadata().getName();
                            context.runOnContext(v -> held.accept(name, holder));
                        }
                        report(pod);
                    }

                    @Override
                    public void onDelete(Pod pod, boolean finalStateUnknown) {
                        String name = pod.getMetadata().getName();
                        context.runOnContext(v -> ended.accept(name, "pod " + name + " was deleted"));
                    }

                    private void report(Pod pod) {
                        String why = KubernetesPods.ended(pod);
                        if (why != null) {
                            String name = pod.getMetadata().getName();
                            context.runOnContext(v -> ended.accept(name, why));
                        }
                    }
                });
    }

    /** Whether the watch runs: false while the API server does not answer (the client lists and watches again). */
    boolean watching() {
        return informer.isWatching();
    }

    /** The namespace's berth pods as last seen: the informer's cache, no API call. */
    java.util.List<Pod> pods() {
        return informer.getStore().list();
    }

    void close() {
        informer.close();
    }
}
