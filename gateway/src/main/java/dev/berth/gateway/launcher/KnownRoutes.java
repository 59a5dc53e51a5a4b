package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every route a launcher's gateway ran since it started, by name. A route a reload removed stays
 * known, since its sessions still run. Read from the engine's threads too.
 */
final class KnownRoutes {

    private volatile Map<String, RouteConfig> byName = Map.of();

    /** Adds {@code routes}, replacing those of the same names. */
    void add(List<RouteConfig> routes) {
        Map<String, RouteConfig> known = new HashMap<>(byName);
        routes.forEach(route -> known.put(route.name(), route));
        byName = Map.copyOf(known);
    }

    /** The route called {@code name}, or null for a route this gateway never ran. */
    RouteConfig get(String name) {
        return name == null ? null : byName.get(name);
    }

    boolean contains(String name) {
        return get(name) != null;
    }
}
