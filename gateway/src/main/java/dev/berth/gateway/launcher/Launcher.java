package dev.berth.gateway.launcher;

import io.vertx.core.Future;

/**
 * Starts one backend per session. The contract every launcher (docker, process, and later swarm
 * or kubernetes) keeps:
 *
 * <ul>
 *   <li>{@link #launch} completes only once the backend answers its readiness check, or fails with
 *       a {@link LaunchException} whose {@link LaunchFailure} says why; whatever a failed launch
 *       started is already cleaned up.
 *   <li>The returned {@link Backend} owns its cleanup: {@link Backend#stop()} is idempotent and
 *       treats "already gone" as done.
 *   <li>Backends carry the session key and route, so a launcher can find them again by label.
 * </ul>
 *
 * Launchers never block the event loop; their futures complete on the caller's context.
 */
public interface Launcher {

  /** Short name for logs and metric tags: "docker", "process". */
  String name();

  Future<Backend> launch(LaunchRequest request);

  /** Stops watching backends. It does not stop them: that is the session registry's call. */
  Future<Void> close();
}
