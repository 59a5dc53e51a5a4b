package dev.berth.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * One websocket route: the path clients connect to and what runs behind each session on it.
 *
 * @param name short name used in container names, labels, logs and metric tags
 * @param version the handler version sessions on this route are pinned to
 * @param image the container image for the docker launcher (null when unset)
 * @param containerPort the port the handler listens on inside its container
 * @param command the handler command for the process launcher (empty when unset)
 * @param maxSessions sessions this route may hold at once; past it, new sessions get 503
 * @param configKey the route's key in the file, e.g. routes[0], for messages that name a setting
 */
public record RouteConfig(
    String name,
    String path,
    String version,
    String image,
    int containerPort,
    List<String> command,
    int maxSessions,
    Limits limits,
    Timeouts timeouts,
    String configKey) {

  /** Resource limits of one session's backend. */
  public record Limits(long memoryBytes, double cpus, long pids) {}

  /**
   * The two launch phases each have a deadline, so an error can say which one to raise.
   *
   * @param start from launch request until the backend process or container runs
   * @param ready from running until its readiness endpoint answers 200
   * @param idleGrace how long a session without a client keeps its backend for a reconnect
   * @param stop how long a backend gets to exit after being told to, before it is killed
   */
  public record Timeouts(Duration start, Duration ready, Duration idleGrace, Duration stop) {}

  /** The full key of one of this route's settings, as an error message should name it. */
  public String key(String setting) {
    return configKey + "." + setting;
  }
}
