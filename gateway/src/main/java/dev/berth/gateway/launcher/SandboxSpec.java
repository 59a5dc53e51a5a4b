package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;

/**
 * What a session backend must be, whatever the engine runs it: the user it runs as, a root
 * filesystem it may not write (then a small tmpfs at {@value #SCRATCH}), no capabilities at all,
 * and the route's memory, CPU and pids limits. Each engine launcher writes this in its engine's
 * terms (a container's host config, a service's task template), leaving out nothing its engine
 * can say.
 *
 * @param memoryBytes the memory limit; swap counts in it where the engine has a swap limit
 * @param nanoCpus the CPU limit, in billionths of a CPU
 */
record SandboxSpec(String user, boolean readOnlyRoot, long tmpfsBytes, long memoryBytes, long nanoCpus, long pids) {

    /** Where a read-only root gets its writable tmpfs. */
    static final String SCRATCH = "/tmp";
    /** A handler needs no capability: every one is dropped. */
    static final String DROPPED_CAPABILITIES = "ALL";

    static SandboxSpec of(RouteConfig route) {
        RouteConfig.Sandbox sandbox = route.sandbox();
        RouteConfig.Limits limits = route.limits();
        return new SandboxSpec(
                sandbox.user(),
                sandbox.readOnlyRootFilesystem(),
                sandbox.tmpfsBytes(),
                limits.memoryBytes(),
                (long) (limits.cpus() * 1e9),
                limits.pids());
    }

    /** Sessions without egress sit on an internal network: no route off the machine at all. */
    static String networkFor(String sessionsNetwork, RouteConfig.Egress egress) {
        return egress == RouteConfig.Egress.NONE ? sessionsNetwork : sessionsNetwork + "-egress";
    }
}
