package dev.berth.gateway.launcher;

/** A launch that did not produce a ready backend; the message names the setting to change. */
public final class LaunchException extends RuntimeException {

  private final LaunchFailure failure;

  public LaunchException(LaunchFailure failure, String message) {
    super(message);
    this.failure = failure;
  }

  public LaunchException(LaunchFailure failure, String message, Throwable cause) {
    super(message, cause);
    this.failure = failure;
  }

  public LaunchFailure failure() {
    return failure;
  }

  /** The failure of any error: a {@link LaunchException}'s own, otherwise {@code fallback}. */
  public static LaunchException wrap(Throwable error, LaunchFailure fallback, String context) {
    if (error instanceof LaunchException launch) {
      return launch;
    }
    return new LaunchException(fallback, context + ": " + error.getMessage(), error);
  }
}
