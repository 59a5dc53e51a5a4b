package dev.berth.gateway.config;

/** Which launcher starts session backends. */
public enum LauncherKind {
    /** Docker when an engine answers, else process; the choice and its reason are logged. */
    AUTO,
    DOCKER,
    /** Each session a one-task Swarm service, placed by the Swarm scheduler (docs/scale-out.md). */
    SWARM,
    /** Each session a pod in {@code kubernetes.namespace}, through the Kubernetes API (docs/kubernetes.md). */
    KUBERNETES,
    PROCESS,
    /**
     * No launch: each new session is piped to the next of its route's running {@code fixed.backends}
     * (sessions share them, nothing is isolated): for measuring the data path against other proxies
     * on the same backends, and for development against a backend run by hand.
     */
    FIXED
}
