package dev.berth.gateway.session;

import dev.berth.gateway.launcher.LaunchGate;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.pipe.BackendDialer;
import dev.berth.gateway.pool.PoolMeter;
import io.vertx.core.Vertx;

/**
 * What every session of a gateway shares.
 *
 * @param launcher launches through {@code gate}; the registry asks the gate for room first
 */
public record SessionServices(Vertx vertx, Launcher launcher, LaunchGate gate, BackendDialer dialer, SessionMeter meter,
    PoolMeter poolMeter, SessionTokens tokens, int maxFrameBytes, int maxMessageBytes) {}
