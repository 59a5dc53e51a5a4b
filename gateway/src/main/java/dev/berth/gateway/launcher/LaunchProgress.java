package dev.berth.gateway.launcher;

/**
 * What a launch tells the session waiting for it, so a client that asked can show it (docs/sessions.md,
 * "Progress"). Called on the event loop; each step at most once, in this order, some skipped (a
 * launch with a free slot is never queued).
 */
public interface LaunchProgress {

    LaunchProgress NONE = new LaunchProgress() {};

    /** Waiting for a launch slot ({@code sessions.launches.maxConcurrent}), behind {@code ahead} others. */
    default void queued(int ahead) {}

    /** Creating and starting the backend. */
    default void starting() {}

    /** Its pod was placed on a node (kubernetes, from the scheduler's event). */
    default void scheduled() {}

    /** Its image is being pulled onto that node (kubernetes, from the kubelet's event). */
    default void pulling() {}

    /** The backend runs; its app is starting up. */
    default void running() {}
}
