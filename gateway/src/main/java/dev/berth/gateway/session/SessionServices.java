package dev.berth.gateway.session;

import dev.berth.gateway.launcher.LaunchGate;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.BackendDialer;
import dev.berth.gateway.pool.PoolMeter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * What every session of a gateway shares.
 *
 * @param control the loop the registry, the sessions and the pools live on
 * @param loops the data loops pipes live on
 * @param launcher launches through {@code gate}; admission asks the gate for room first
 * @param canaries picks a new session's version and hears how each version's sessions fare
 */
public record SessionServices(
        Vertx vertx,
        Context control,
        EventLoops loops,
        Launcher launcher,
        LaunchGate gate,
        BackendDialer dialer,
        SessionMeter meter,
        PoolMeter poolMeter,
        SessionTokens tokens,
        Canaries canaries,
        int maxFrameBytes,
        int maxMessageBytes) {}
