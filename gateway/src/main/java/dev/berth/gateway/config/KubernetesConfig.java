package dev.berth.gateway.config;

/**
 * Where the kubernetes launcher runs sessions: a pod each, in one namespace (docs/kubernetes.md).
 *
 * @param namespace the namespace of the session pods (and of the Role that lets the gateway manage them)
 * @param master the API server's URL, or null for the client's own discovery: the in-cluster service
 *     account, else {@code ~/.kube/config}'s current context
 */
public record KubernetesConfig(String namespace, String master) {

    /** Nothing set: the {@code berth} namespace, the API server the client finds. */
    public static final KubernetesConfig DEFAULT = new KubernetesConfig("berth", null);
}
