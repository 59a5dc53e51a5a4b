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

    /** The backend runs; its app is starting up. */
    default void running() {}
}
