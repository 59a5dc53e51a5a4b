package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import java.util.function.Supplier;

/**
 * Taking a session's backend over from another gateway. The engine settles a race between two
 * gateways taking the same session at once (a rename, a compare-and-set): the loser looks again
 * and takes it from the winner, so the newest connection wins, as within one gateway.
 */
final class TakeOverRetry {

    private static final int ATTEMPTS = 3;

    private TakeOverRetry() {}

    /** Thrown by an attempt that another gateway beat to the session. */
    static final class Lost extends RuntimeException {
        Lost() {
            super("another gateway took the session meanwhile", null, false, false);
        }
    }

    /**
     * Blocking: runs {@code attempt} (one look at the engine and one try to take what it found) again
     * while it throws {@link Lost}; its result, null when the engine has no such session.
     */
    static <T> T take(String sessionKey, Supplier<T> attempt) {
        for (int tried = 0; tried < ATTEMPTS; tried++) {
            try {
                return attempt.get();
            } catch (Lost takenMeanwhile) {
                // look again
            }
        }
        throw new FailureException(Failure.START_FAILED, "session " + sessionKey + " kept moving between gateways");
    }
}
