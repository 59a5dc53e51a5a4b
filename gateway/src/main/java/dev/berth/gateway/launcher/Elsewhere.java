package dev.berth.gateway.launcher;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What other gateways hold on the engine, by route, as one look found it: so that admission limits
 * and the warm pool hold across gateways.
 *
 * @param backends how many backends they hold (sessions and pool entries alike: all take capacity)
 * @param gateways which gateways hold them (their {@code sessions.gatewayId})
 */
public record Elsewhere(Map<String, Integer> backends, Map<String, Set<String>> gateways) {

    /** Nothing elsewhere: one gateway, or a launcher whose backends no other gateway can see. */
    public static final Elsewhere NONE = new Elsewhere(Map.of(), Map.of());

    public Elsewhere {
        backends = Map.copyOf(backends);
        gateways = Map.copyOf(gateways);
    }

    /** Backends of all routes. */
    public int total() {
        return backends.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Gathers one look's backends, one {@link #count} per backend another gateway holds. */
    static final class Tally {
        private final Map<String, Integer> backends = new HashMap<>();
        private final Map<String, Set<String>> gateways = new HashMap<>();

        void count(String route, String gateway) {
            backends.merge(route, 1, Integer::sum);
            gateways.computeIfAbsent(route, name -> new TreeSet<>()).add(gateway);
        }

        Elsewhere result() {
            Map<String, Set<String>> frozen = new HashMap<>();
            gateways.forEach((route, ids) -> frozen.put(route, Set.copyOf(ids)));
            return new Elsewhere(backends, frozen);
        }
    }
}
