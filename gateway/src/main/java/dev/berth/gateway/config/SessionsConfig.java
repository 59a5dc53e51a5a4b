package dev.berth.gateway.config;

import java.time.Duration;

/**
 * What happens to sessions beyond one gateway process.
 *
 * @param onShutdown KEEP leaves every session's container running at shutdown, so a restarted (or
 *     upgraded) gateway re-adopts them and clients get their sessions back; END ends every session
 *     and removes its container
 * @param reapInterval how often the engine is checked for managed containers that belong to no
 *     live session (they are adopted and expire after the grace period) or that are dead (removed)
 */
public record SessionsConfig(OnShutdown onShutdown, Duration reapInterval) {

  public enum OnShutdown { KEEP, END }
}
