package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;

/**
 * What to launch: the handler of {@code route} for the session whose public key is
 * {@code sessionKey}. The key, not the client's secret token, is what backends, labels and logs
 * see.
 */
public record LaunchRequest(String sessionKey, RouteConfig route) {}
