package dev.berth.gateway.pipe;

/**
 * What passed through a pipe each way, counted as it passes (and told to the {@link FrameMeter}).
 * Written on the pipe's loop only; read from any thread: by the session's idle clock, the admin API
 * and the line that says how a session ended.
 */
final class PipeTraffic {

    private final FrameMeter meter;
    /** When a data frame last passed either way. */
    private volatile long lastDataNanos = System.nanoTime();

    private volatile long bytesToBackend;
    private volatile long bytesToClient;
    /** When a data frame last went to the backend, and last came from it (0: never), for the end line. */
    private volatile long lastToBackendNanos;

    private volatile long lastFromBackendNanos;

    PipeTraffic(FrameMeter meter) {
        this.meter = meter;
    }

    /** A client's data frame of {@code length} payload bytes goes to the backend. */
    void toBackend(int length) {
        meter.forwarded(Direction.CLIENT_TO_BACKEND, length);
        bytesToBackend += length; // one writer: the pipe's loop
        lastDataNanos = System.nanoTime();
        lastToBackendNanos = lastDataNanos;
    }

    /** A backend's data frame of {@code length} payload bytes came, on its way to the client. */
    void fromBackend(int length) {
        meter.forwarded(Direction.BACKEND_TO_CLIENT, length);
        bytesToClient += length; // one writer: the pipe's loop
        lastDataNanos = System.nanoTime();
        lastFromBackendNanos = lastDataNanos;
    }

    long bytes(Direction direction) {
        return direction == Direction.CLIENT_TO_BACKEND ? bytesToBackend : bytesToClient;
    }

    long lastDataNanos() {
        return lastDataNanos;
    }

    /** The bytes each way, and when each way last carried a frame. */
    String describe() {
        long now = System.nanoTime();
        return bytesToBackend + " bytes to the backend (the last " + ago(lastToBackendNanos, now) + "), "
                + bytesToClient + " from it (the last " + ago(lastFromBackendNanos, now) + ")";
    }

    private static String ago(long nanos, long now) {
        return nanos == 0 ? "never" : (now - nanos) / 1_000_000 + "ms ago";
    }
}
