package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;

/**
 * A session's pod, and how to read one: the {@link SandboxSpec} in a pod spec's terms (non-root,
 * read-only root with a memory-backed {@value SandboxSpec#SCRATCH}, no capability, no privilege
 * escalation, the runtime's default seccomp profile, no service account token, CPU and memory
 * limits), the {@link EngineLabels} and name every engine launcher gives its backends, and the
 * handler's environment. A pod spec has no pids limit: that is the kubelet's ({@code podPidsLimit}
 * in its configuration), so a cluster for Berth sets it there (docs/kubernetes.md).
 */
final class KubernetesPods {

    /** The handler's container in each pod. */
    static final String CONTAINER = "handler";

    private static final String SCRATCH_VOLUME = "scratch";

    /** The kubelet's waiting reasons for an image it will not pull soon, or ever. */
    private static final java.util.Set<String> UNPULLABLE =
            java.util.Set.of("ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull");

    private KubernetesPods() {}

    /** @param holder the gateway that holds it, in its {@value EngineLabels#GATEWAY_LABEL} label */
    static Pod of(LaunchRequest request, String name, String holder) {
        RouteConfig route = request.route();
        SandboxSpec sandbox = SandboxSpec.of(route);
        String[] ids = sandbox.user().split(":");
        long uid = Long.parseLong(ids[0]);
        long gid = ids.length > 1 ? Long.parseLong(ids[1]) : uid;
        Map<String, Quantity> limits = Map.of(
                "cpu", new Quantity(Math.max(1, sandbox.nanoCpus() / 1_000_000) + "m"),
                "memory", new Quantity(Long.toString(sandbox.memoryBytes())));
        List<EnvVar> env = HandlerEnvironment.of(request, route.containerPort()).variables().entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(variable -> new EnvVar(variable.getKey(), variable.getValue(), null))
                .toList();
        return new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(EngineLabels.of(request))
                .addToLabels(EngineLabels.GATEWAY_LABEL, holder)
                .endMetadata()
                .withNewSpec()
                .withRestartPolicy("Never")
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withTerminationGracePeriodSeconds(
                        Math.max(1, route.timeouts().stop().toSeconds()))
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(uid)
                .withRunAsGroup(gid)
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .endSecurityContext()
                .addNewContainer()
                .withName(CONTAINER)
                .withImage(route.image())
                .withImagePullPolicy("IfNotPresent")
                .withEnv(env)
                .addNewPort()
                .withContainerPort(route.containerPort())
                .withName("session")
                .endPort()
                .withNewResources()
                .withLimits(limits)
                .withRequests(limits)
                .endResources()
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withReadOnlyRootFilesystem(sandbox.readOnlyRoot())
                .withAllowPrivilegeEscalation(false)
                .withPrivileged(false)
                .withNewCapabilities()
                .withDrop(SandboxSpec.DROPPED_CAPABILITIES)
                .endCapabilities()
                .endSecurityContext()
                .addNewVolumeMount()
                .withName(SCRATCH_VOLUME)
                .withMountPath(SandboxSpec.SCRATCH)
                .endVolumeMount()
                .endContainer()
                .addNewVolume()
                .withName(SCRATCH_VOLUME)
                .withNewEmptyDir()
                .withMedium("Memory")
                .withSizeLimit(new Quantity(Long.toString(sandbox.tmpfsBytes())))
                .endEmptyDir()
                .endVolume()
                .endSpec()
                .build();
    }

    /** Whether the pod runs with an address to dial: its handler's container started. */
    static boolean running(Pod pod) {
        PodStatus status = pod.getStatus();
        return status != null
                && "Running".equals(status.getPhase())
                && status.getPodIP() != null
                && !status.getPodIP().isEmpty();
    }

    /** Whether the kubelet holds the pod Ready: its containers started and its readiness gates passed. */
    static boolean ready(Pod pod) {
        PodStatus status = pod.getStatus();
        return status != null
                && status.getConditions().stream()
                        .anyMatch(condition ->
                                "Ready".equals(condition.getType()) && "True".equals(condition.getStatus()));
    }

    /**
     * Why the pod's image cannot be pulled, or null: the kubelet backs off after a failed pull
     * ({@code ImagePullBackOff}), and some names it never tries. A transient first failure
     * ({@code ErrImagePull}) is left to its retry.
     */
    static String cannotPull(Pod pod) {
        PodStatus status = pod.getStatus();
        if (status == null) {
            return null;
        }
        for (ContainerStatus container : status.getContainerStatuses()) {
            ContainerStateWaiting waiting =
                    container.getState() == null ? null : container.getState().getWaiting();
            if (waiting != null && UNPULLABLE.contains(waiting.getReason())) {
                return "pod " + pod.getMetadata().getName() + ": image " + container.getImage() + " cannot be pulled ("
                        + waiting.getReason() + (waiting.getMessage() == null ? "" : ": " + waiting.getMessage()) + ")";
            }
        }
        return null;
    }

    /** Why the pod's handler ended, or null while it has not: the pod is over, or its container terminated. */
    static String ended(Pod pod) {
        PodStatus status = pod.getStatus();
        if (status == null) {
            return null;
        }
        for (ContainerStatus container : status.getContainerStatuses()) {
            ContainerStateTerminated terminated =
                    container.getState() == null ? null : container.getState().getTerminated();
            if (terminated != null) {
                return "pod " + pod.getMetadata().getName() + ": container exited with status "
                        + terminated.getExitCode()
                        + (outOfMemory(terminated) ? " (out of memory)" : "");
            }
        }
        if ("Failed".equals(status.getPhase()) || "Succeeded".equals(status.getPhase())) {
            return "pod " + pod.getMetadata().getName() + " "
                    + status.getPhase().toLowerCase()
                    + (status.getReason() == null ? "" : " (" + status.getReason() + ")");
        }
        return null;
    }

    private static boolean outOfMemory(ContainerStateTerminated terminated) {
        return "OOMKilled".equals(terminated.getReason());
    }

    /** The gateway holding the pod: its label, else the default gateway. */
    static String holder(Pod pod) {
        String holder = label(pod, EngineLabels.GATEWAY_LABEL);
        return holder == null ? EngineLabels.DEFAULT_GATEWAY : holder;
    }

    static String label(Pod pod, String label) {
        Map<String, String> labels = pod.getMetadata().getLabels();
        return labels == null ? null : labels.get(label);
    }

    /** The same pod, now session {@code sessionKey}'s rather than a pool entry. */
    static Pod claimedBy(Pod pod, String sessionKey) {
        return new PodBuilder(pod)
                .editMetadata()
                .removeFromLabels(EngineLabels.POOL_LABEL)
                .addToLabels(EngineLabels.SESSION_LABEL, sessionKey)
                .endMetadata()
                .build();
    }

    /** The same pod, held by {@code holder}: sent as an update, it is a compare-and-set on the pod's resourceVersion. */
    static Pod heldBy(Pod pod, String holder) {
        return new PodBuilder(pod)
                .editMetadata()
                .addToLabels(EngineLabels.GATEWAY_LABEL, holder)
                .endMetadata()
                .build();
    }
}
