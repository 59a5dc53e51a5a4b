package dev.berth.gateway.failure;

/**
 * Something that failed with a {@link Failure}; the message is for the log and names the setting to
 * change. It carries no stack trace of its own (a cause keeps its own): a refusal is an answer, not
 * a bug, and a flood of refusals must stay cheap.
 */
public final class FailureException extends RuntimeException {

    private final Failure failure;

    public FailureException(Failure failure, String message) {
        super(message, null, false, false);
        this.failure = failure;
    }

    public FailureException(Failure failure, String message, Throwable cause) {
        super(message, cause, false, false);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }

    /** The failure of any error: a {@link FailureException}'s own, otherwise {@code fallback}. */
    public static FailureException wrap(Throwable error, Failure fallback, String context) {
        if (error instanceof FailureException known) {
            return known;
        }
        return new FailureException(fallback, context + ": " + error.getMessage(), error);
    }
}
