package dev.berth.gateway.pool;

import dev.berth.gateway.launcher.Backend;
import io.vertx.core.Context;
import io.vertx.core.http.WebSocket;

/** A ready backend of a warm pool and the gateway's websocket to it, dialled from {@code loop}. */
record PoolEntry(Backend backend, WebSocket socket, Context loop) {}
