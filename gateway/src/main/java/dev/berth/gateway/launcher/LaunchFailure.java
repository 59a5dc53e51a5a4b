package dev.berth.gateway.launcher;

import java.util.Locale;

/**
 * The fixed vocabulary of launch failures, shared by HTTP statuses, logs and metric tags.
 * {@link #temporary} failures mean "cannot launch now, retry later" (503 with Retry-After); the
 * others mean the backend itself failed (502).
 */
public enum LaunchFailure {
  /** The route already holds its maximum number of sessions. */
  CAPACITY(true, "no room for a new session right now"),
  /** The launcher's engine does not answer. */
  ENGINE_UNAVAILABLE(true, "sessions cannot be started right now"),
  /** The engine refused or failed to create or start the backend. */
  START_FAILED(false, "the session's backend could not be started"),
  /** The backend was not running within the route's start timeout. */
  START_TIMEOUT(false, "the session's backend took too long to start"),
  /** The backend ran but did not answer its readiness check within the route's ready timeout. */
  READY_TIMEOUT(false, "the session's backend took too long to get ready"),
  /** The backend exited before it became ready. */
  EXITED_EARLY(false, "the session's backend stopped while starting"),
  /** The backend was ready but refused the gateway's websocket connection. */
  UNREACHABLE(false, "the session's backend did not accept the connection");

  private final boolean temporary;
  private final String publicReason;

  LaunchFailure(boolean temporary, String publicReason) {
    this.temporary = temporary;
    this.publicReason = publicReason;
  }

  /**
   * What a client may be told. Exception messages stay in the log: they can name containers,
   * addresses and settings that are not the client's business.
   */
  public String publicReason() {
    return publicReason;
  }

  public boolean temporary() {
    return temporary;
  }

  /** The value used as a metric tag and in log lines, e.g. "ready_timeout". */
  public String tag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
