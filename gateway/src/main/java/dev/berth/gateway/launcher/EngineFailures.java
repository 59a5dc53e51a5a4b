package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import java.io.IOException;

/** What a failed engine call means for the session that needed it, whatever the engine. */
final class EngineFailures {

    private EngineFailures() {}

    /** An engine that cannot be reached is "cannot launch now" (503), not a failed backend (502). */
    static Failure failureOf(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException) {
                return Failure.ENGINE_UNAVAILABLE;
            }
        }
        return Failure.START_FAILED;
    }

    /** Fails with {@code error} as {@link #failureOf} classes it, saying what could not be done. */
    static <T> Future<T> failed(Throwable error, String what) {
        return Future.failedFuture(FailureException.wrap(error, failureOf(error), what));
    }
}
