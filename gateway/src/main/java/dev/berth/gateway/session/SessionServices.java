package dev.berth.gateway.session;

import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.pipe.BackendDialer;
import io.vertx.core.Vertx;

/** What every session of a gateway shares. */
public record SessionServices(Vertx vertx, Launcher launcher, BackendDialer dialer, SessionMeter meter, int maxMessageBytes) {}
