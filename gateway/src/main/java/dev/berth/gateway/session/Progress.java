package dev.berth.gateway.session;

/**
 * A step of a session's start, told to a client that asked for progress (docs/sessions.md,
 * "Progress"); {@code ahead} counts the launches queued before it (0 unless queued).
 */
public record Progress(Phase phase, int ahead) {

    public enum Phase {
        /** Waiting for a launch slot. */
        QUEUED,
        /** Its container (or process) is being created and started. */
        STARTING,
        /** Its pod has a node to run on (kubernetes): the scheduler placed it. */
        SCHEDULED,
        /** Its image is being pulled onto that node (kubernetes): a first start there waits for it. */
        PULLING,
        /** Its backend runs; the app in it is starting up. */
        RUNNING,
        /** Piped to its backend: frames flow from now on. */
        READY
    }
}
