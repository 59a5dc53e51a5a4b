package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a session backend is marked on an engine, so that a restarted gateway, or another one, finds
 * it again: its {@code berth.*} labels and its deterministic name. Every engine launcher marks its
 * backends this way.
 */
final class EngineLabels {

    static final String MANAGED_LABEL = "berth.managed";
    static final String SESSION_LABEL = "berth.session";
    static final String ROUTE_LABEL = "berth.route";
    static final String VERSION_LABEL = "berth.version";
    /** On warm-pool backends: their session is named at claim time (by their new name, or a label). */
    static final String POOL_LABEL = "berth.pool";
    /** The gateway holding a session's backend, where the name does not say (swarm services). */
    static final String GATEWAY_LABEL = "berth.gateway";
    /** The gateway id whose backends' names carry no suffix: a deployment of one gateway. */
    static final String DEFAULT_GATEWAY = "default";
    /**
     * A session's backend: {@code berth-<route>-<key>}, then {@code .<gateway id>} unless its holder
     * is the default gateway.
     */
    private static final Pattern CLAIMED_NAME = Pattern.compile("berth-(.+)-([0-9a-f]{24})(?:\\.[a-z0-9-]+)?");

    private EngineLabels() {}

    /** The labels of the backend {@code request} launches: managed, its route and version, its session or its pool. */
    static Map<String, String> of(LaunchRequest request) {
        RouteConfig route = request.route();
        return request.pooled()
                ? Map.of(
                        MANAGED_LABEL,
                        "true",
                        POOL_LABEL,
                        "true",
                        ROUTE_LABEL,
                        route.name(),
                        VERSION_LABEL,
                        route.version())
                : Map.of(
                        MANAGED_LABEL,
                        "true",
                        SESSION_LABEL,
                        request.sessionKey(),
                        ROUTE_LABEL,
                        route.name(),
                        VERSION_LABEL,
                        route.version());
    }

    /** The name of the backend for {@code sessionKey} (or a pool entry's name) on {@code route}, whoever holds it. */
    static String nameOf(String route, String sessionKey) {
        return "berth-" + route + "-" + sessionKey;
    }

    /** The name gateway {@code owner} gives its backend for {@code sessionKey} on {@code route}. */
    static String nameFor(String route, String sessionKey, String owner) {
        return nameOf(route, sessionKey) + (owner.equals(DEFAULT_GATEWAY) ? "" : "." + owner);
    }

    /** The gateway a backend's name says holds it. */
    static String ownerOf(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? DEFAULT_GATEWAY : name.substring(dot + 1);
    }

    /** The session a claimed pool entry's name carries, or null while it is unclaimed. */
    static String sessionInName(String name) {
        Matcher claimed = CLAIMED_NAME.matcher(name);
        return claimed.matches() ? claimed.group(2) : null;
    }
}
