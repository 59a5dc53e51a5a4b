package dev.berth.gateway.launcher;

import java.util.Locale;

/**
 * The fixed vocabulary of launch failures, shared by HTTP statuses, logs and metric tags.
 * {@link #temporary} failures mean "cannot launch now, retry later" (503 with Retry-After); the
 * others mean the backend itself failed (502).
 */
public enum LaunchFailure {
  /** The route already holds its maximum number of sessions. */
  CAPACITY(true),
  /** The launcher's engine does not answer. */
  ENGINE_UNAVAILABLE(true),
  /** The engine refused or failed to create or start the backend. */
  START_FAILED(false),
  /** The backend was not running within the route's start timeout. */
  START_TIMEOUT(false),
  /** The backend ran but did not answer its readiness check within the route's ready timeout. */
  READY_TIMEOUT(false),
  /** The backend exited before it became ready. */
  EXITED_EARLY(false),
  /** The backend was ready but refused the gateway's websocket connection. */
  UNREACHABLE(false);

  private final boolean temporary;

  LaunchFailure(boolean temporary) {
    this.temporary = temporary;
  }

  public boolean temporary() {
    return temporary;
  }

  /** The value used as a metric tag and in log lines, e.g. "ready_timeout". */
  public String tag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
