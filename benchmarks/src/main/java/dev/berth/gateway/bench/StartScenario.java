package dev.berth.gateway.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * The start benchmark's scenarios, each run on a gateway process of its own: launcher, whether the route has a warm
 * pool, and whether sessions come one after another or in bursts.
 */
enum StartScenario {
    DOCKER_COLD("docker", false, false, "docker launcher, no pool: every session creates and starts its container"),
    DOCKER_POOL(
            "docker",
            true,
            false,
            "docker launcher, warm pool, sessions one after another, slower than the pool" + " refills"),
    DOCKER_BURST(
            "docker", true, true, "docker launcher, warm pool, bursts of sessions at once, more than the pool holds"),
    PROCESS_COLD("process", false, false, "process launcher, no pool: every session starts a handler JVM"),
    PROCESS_POOL(
            "process",
            true,
            false,
            "process launcher, warm pool, sessions one after another, slower than the" + " pool refills"),
    SWARM_COLD(
            "swarm",
            false,
            false,
            "swarm launcher on a one-node swarm, no pool: every session creates a one-task" + " service"),
    SWARM_POOL(
            "swarm",
            true,
            false,
            "swarm launcher on a one-node swarm, warm pool, sessions one after another, slower"
                    + " than the pool refills"),
    DOCKER_SPACED(
            "docker",
            true,
            false,
            true,
            "docker launcher, the shipped config's pool: sessions arriving a few seconds apart, each kept open"),
    DOCKER_ARRIVALS(
            "docker",
            true,
            false,
            true,
            "docker launcher, the shipped config's pool: sessions arriving faster than containers start, open"
                    + " loop, kept open; twice, on a fresh gateway and once the pool has followed the first wave");

    final String launcher;
    final boolean pooled;
    final boolean burst;
    /** Open-loop arrivals on the shipped config's pool, run by {@link StartArrivals}. */
    final boolean arrivals;

    final String description;

    StartScenario(String launcher, boolean pooled, boolean burst, String description) {
        this(launcher, pooled, burst, false, description);
    }

    StartScenario(String launcher, boolean pooled, boolean burst, boolean arrivals, String description) {
        this.launcher = launcher;
        this.pooled = pooled;
        this.burst = burst;
        this.arrivals = arrivals;
        this.description = description;
    }

    /** docker-cold, docker-pool, ...: the name {@code --scenarios} takes. */
    String flag() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    boolean docker() {
        return launcher.equals("docker");
    }

    boolean swarm() {
        return launcher.equals("swarm");
    }

    static StartScenario of(String flag) {
        return Arrays.stream(values())
                .filter(s -> s.flag().equals(flag.trim()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown scenario '" + flag + "'"));
    }
}
