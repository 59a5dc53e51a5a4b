package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.LaunchException;
import dev.berth.gateway.launcher.LaunchFailure;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.pipe.FrameMeter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The live sessions of this gateway, by token. Used on the event loop only. A session leaves the
 * registry when it ends, and only if the registry still maps its token to that very session.
 */
public final class SessionRegistry {

  private final Vertx vertx;
  private final Launcher launcher;
  private final FrameMeter meter;
  private final Map<String, Session> byToken = new HashMap<>();
  private final Map<String, Integer> countByRoute = new HashMap<>();

  public SessionRegistry(Vertx vertx, Launcher launcher, FrameMeter meter) {
    this.vertx = vertx;
    this.launcher = launcher;
    this.meter = meter;
  }

  /** The live session a client's cookie names on this route, if any. */
  public Optional<Session> find(String presentedToken, RouteConfig route) {
    return SessionId.parse(presentedToken)
        .map(id -> byToken.get(id.token()))
        .filter(session -> !session.ended() && session.route().name().equals(route.name()));
  }

  /**
   * A new session on {@code route}, or a {@link LaunchFailure#CAPACITY} failure when the route
   * already holds its {@code maxSessions}.
   */
  public Session open(RouteConfig route) {
    int current = countByRoute.getOrDefault(route.name(), 0);
    if (current >= route.maxSessions()) {
      throw new LaunchException(LaunchFailure.CAPACITY, "route " + route.name() + " holds its maximum of "
          + route.maxSessions() + " sessions (" + route.key("maxSessions") + ")");
    }
    Session session = new Session(SessionId.random(), route, vertx, launcher, meter, this::forget);
    byToken.put(session.id().token(), session);
    countByRoute.merge(route.name(), 1, Integer::sum);
    return session;
  }

  public int size() {
    return byToken.size();
  }

  /**
   * Ends every session, e.g. at shutdown; completes when every backend was stopped or failed to
   * stop (the launcher logs those: a shutdown goes on regardless).
   */
  public Future<Void> endAll(int code, String reason) {
    List<Future<Void>> stops = new ArrayList<>();
    for (Session session : List.copyOf(byToken.values())) {
      stops.add(session.end(code, reason));
    }
    return Future.join(stops).<Void>mapEmpty().otherwiseEmpty();
  }

  private void forget(Session session) {
    if (byToken.remove(session.id().token(), session)) {
      countByRoute.merge(session.route().name(), -1, Integer::sum);
    }
  }
}
