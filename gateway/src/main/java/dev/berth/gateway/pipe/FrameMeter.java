package dev.berth.gateway.pipe;

/** Counts what pipes forward; called on the data loops for every frame, so it must be cheap. */
public interface FrameMeter {
    void forwarded(Direction direction, int payloadBytes);

    /**
     * A client was attached to a pipe: on the pipe's own loop, or on another one (its events hop
     * between the two loops, at some cost per frame).
     */
    void clientAttached(boolean onPipeLoop);

    /**
     * A resume-protocol client came back to its session and is sent again the {@code replayedMessages}
     * backend messages it had not received (0: it missed nothing). Once per resume, on the pipe's loop.
     */
    default void resumed(long replayedMessages) {}
}
