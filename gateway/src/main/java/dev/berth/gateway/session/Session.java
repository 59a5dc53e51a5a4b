package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.pipe.FrameMeter;
import dev.berth.gateway.pipe.FramePipe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * One user session: its backend (launched once, on first use; later callers join the same
 * launch), the client attached to it now, and the grace timer that runs while no client is.
 * Lives on the event loop; {@link #end} runs exactly once and is the only way out.
 */
public final class Session {

  /** Sent to a client whose session was resumed by a newer connection with the same cookie. */
  public static final int CLOSE_REPLACED = 4001;
  private static final Logger LOG = Logger.getLogger(Session.class.getName());

  private final SessionId id;
  private final RouteConfig route;
  private final Vertx vertx;
  private final Launcher launcher;
  private final FrameMeter meter;
  private final Consumer<Session> onEnd;
  private Future<Backend> backend;
  private FramePipe attached;
  private long graceTimer = -1;
  private boolean ended;

  Session(SessionId id, RouteConfig route, Vertx vertx, Launcher launcher, FrameMeter meter, Consumer<Session> onEnd) {
    this.id = id;
    this.route = route;
    this.vertx = vertx;
    this.launcher = launcher;
    this.meter = meter;
    this.onEnd = onEnd;
  }

  public SessionId id() {
    return id;
  }

  public RouteConfig route() {
    return route;
  }

  public boolean ended() {
    return ended;
  }

  /** The session's backend, launched on the first call. A failed launch ends the session. */
  public Future<Backend> backend() {
    if (backend == null) {
      backend = launcher.launch(new LaunchRequest(id.key(), route));
      backend.onSuccess(ready -> ready.exited().onSuccess(why -> end(1011, "session backend stopped: " + why)))
          .onFailure(error -> end(1011, "launch failed"));
    }
    return backend;
  }

  /**
   * Pipes a client to the backend. A client already attached is closed with
   * {@link #CLOSE_REPLACED}: the newest connection for a session wins.
   */
  public void attach(ServerWebSocket client, WebSocket backendSocket) {
    if (ended) {
      client.close((short) 1011, "session ended");
      backendSocket.close();
      return;
    }
    cancelGrace();
    if (attached != null) {
      attached.close(CLOSE_REPLACED, "session resumed by a newer connection");
    }
    FramePipe pipe = FramePipe.connect(client, backendSocket, meter);
    attached = pipe;
    pipe.ended().onSuccess(end -> {
      if (attached == pipe) {
        attached = null;
        LOG.info(this + ": " + end + "; backend kept " + route.timeouts().idleGrace().toMillis() + "ms for a reconnect");
        awaitReconnect();
      }
    });
  }

  /** Keeps the backend for the route's grace period, for the client to come back. */
  public void awaitReconnect() {
    if (ended || attached != null || graceTimer >= 0) {
      return;
    }
    long graceMs = route.timeouts().idleGrace().toMillis();
    graceTimer = vertx.setTimer(graceMs, id -> {
      graceTimer = -1;
      end(1001, "no client for " + graceMs + "ms");
    });
  }

  /** Ends the session: closes its client with {@code code}, stops its backend. Runs once. */
  public Future<Void> end(int code, String reason) {
    if (ended) {
      return Future.succeededFuture();
    }
    ended = true;
    cancelGrace();
    LOG.info(this + " ended: " + reason);
    if (attached != null) {
      attached.close(code, reason);
      attached = null;
    }
    onEnd.accept(this);
    return backend == null ? Future.succeededFuture() : backend.transform(launched ->
        launched.succeeded() ? launched.result().stop() : Future.succeededFuture());
  }

  private void cancelGrace() {
    if (graceTimer >= 0) {
      vertx.cancelTimer(graceTimer);
      graceTimer = -1;
    }
  }

  @Override
  public String toString() {
    return id + " on route " + route.name();
  }
}
