package dev.berth.gateway.session;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.Elsewhere;
import dev.berth.gateway.launcher.EngineStatus;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pool.WarmPool;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The sessions of this gateway, by public key. The engine is the source of truth: at start and
 * then every {@code sessions.reapInterval}, running managed backends that no session holds are
 * adopted as detached sessions (a client may come back for them; if none does, the grace period
 * ends them), and dead ones are removed. Lives on the control loop; the edge reaches it from any
 * loop through {@link #claim} and {@link #countByState}. A session leaves the
 * registry when it is gone, and only if the registry still maps its key to that very session.
 * Admission is checked here, before anything is launched: the gateway's, the route's and the client
 * address's session limits, the client's rate, and room in the launch queue.
 */
public final class SessionRegistry {

  private static final Logger LOG = Logger.getLogger(SessionRegistry.class.getName());
  /**
   * How often other gateways' backends are counted on the engine. Between two counts, gateways may
   * together admit past a limit by what they admitted in that second.
   */
  private static final long COUNT_INTERVAL_MS = 1000;

  private BerthConfig config;
  private final SessionServices services;
  private final Map<String, Session> byKey = new HashMap<>();
  private final Map<String, Integer> countByRoute = new HashMap<>();
  /** The client address each session was opened for (adopted sessions have none). */
  private final Map<String, String> clientByKey = new HashMap<>();
  private final ClientAdmission clients;
  /** By route name; each runs its route's version (never a canary's). Read by the pool gauges' thread too. */
  private final Map<String, WarmPool> pools = new java.util.concurrent.ConcurrentHashMap<>();
  private final VersionDrains drains;
  /** Sessions being taken over from another gateway, by key, so two clients of one session share one take-over. */
  private final Map<String, Future<Session>> takingOver = new HashMap<>();
  /** Canary versions an operator drained (route name to version): they take no new session until a reload changes the canary. */
  private final Map<String, String> drainedCanaries = new HashMap<>();
  private long reapTimer = -1;
  private long countTimer = -1;
  /** Backends other gateways hold, by route, as last counted on the engine (admission across gateways). */
  private Elsewhere heldElsewhere = Elsewhere.NONE;
  private boolean discovering;
  /** Read by the edge's loops for readiness. */
  private volatile boolean draining;
  private boolean admissionsPaused;

  public SessionRegistry(BerthConfig config, SessionServices services) {
    this.config = config;
    this.services = services;
    this.clients = new ClientAdmission(config.sessions());
    this.drains = new VersionDrains(services.vertx(), this::retire);
    services.canaries().configure(config.routes());
    config.routes().forEach(this::openPool);
  }

  private void openPool(RouteConfig route) {
    if (route.poolSize() > 0) {
      pools.put(route.name(), new WarmPool(services.vertx(), services.control(), services.loops(), route,
          services.launcher(), services.dialer(), services.poolMeter(), () -> roomForPool(route),
          () -> WarmPool.share(route.poolSize(), config.sessions().gatewayId(),
              heldElsewhere.gateways().getOrDefault(route.name(), Set.of())),
          this::adopt));
      services.poolMeter().poolIdle(route.name(), () -> {
        WarmPool current = pools.get(route.name());
        return current == null ? 0 : current.idle();
      });
    }
  }

  /**
   * Swaps in a reloaded config, already validated and prepared for by the launcher: new sessions
   * follow its routes from now on, while every existing session keeps its backend and the route
   * it started with. A route whose settings changed gets a new warm pool (the old one's idle
   * backends are stopped); versions no longer run start draining by their route's policy.
   * On the control loop; completes with a summary for the log.
   */
  public String apply(BerthConfig next) {
    List<String> changes = new ArrayList<>();
    for (RouteConfig route : config.routes()) {
      Optional<RouteConfig> after = next.route(route.name());
      if (after.isEmpty()) {
        changes.add("removed route " + route.name());
      } else if (!after.get().equals(route)) {
        changes.add("changed route " + route.name() + (after.get().version().equals(route.version()) ? ""
            : " (version " + route.version() + " -> " + after.get().version() + ")"));
      }
    }
    next.routes().stream().filter(route -> config.route(route.name()).isEmpty())
        .forEach(route -> changes.add("added route " + route.name() + " (version " + route.version() + ")"));
    for (RouteConfig route : next.routes()) {
      WarmPool pool = pools.get(route.name());
      if (pool != null && !pool.route().equals(route)) {
        pools.remove(route.name()).close(true);
      }
    }
    pools.keySet().stream().filter(name -> next.route(name).isEmpty()).toList()
        .forEach(name -> pools.remove(name).close(true));
    drainedCanaries.keySet().removeIf(name -> next.route(name).map(route -> route.canary() == null
        || !route.canary().version().equals(drainedCanaries.get(name))).orElse(true));
    config = next;
    services.canaries().configure(next.routes());
    next.routes().stream().filter(route -> !pools.containsKey(route.name())).forEach(this::openPool);
    fillPools();
    drains.review(byKey.values(), this::runningNow);
    return changes.isEmpty() ? "no route changed" : String.join("; ", changes);
  }

  /** Ends the live sessions of a draining version at its deadline: their clients reconnect to the route's new version. */
  private void retire(String route, String version) {
    List<Session> retiring = byKey.values().stream()
        .filter(session -> session.live() && session.route().name().equals(route) && session.route().version().equals(version))
        .toList();
    LOG.info("version " + version + " of route " + route + ": drain deadline reached, " + retiring.size()
        + " session(s) are told to reconnect to the route's version");
    retiring.forEach(session -> session.end(Failure.VERSION_RETIRED, "its version " + version + " drained"));
  }

  /** Pool entries count against the limits sessions do, and are launched only when no session waits to launch. */
  private boolean roomForPool(RouteConfig route) {
    int pooled = pools.values().stream().mapToInt(WarmPool::idle).sum();
    return onRoute(route) + pools.get(route.name()).idle() < route.maxSessions()
        && total() + pooled < config.sessions().maxSessions()
        && services.gate().idleSlot()
        && !services.launcher().engineStatus().stalled();
  }

  /** Sessions on {@code route}: this gateway's, and the backends other gateways hold there. */
  private int onRoute(RouteConfig route) {
    return countByRoute.getOrDefault(route.name(), 0) + heldElsewhere.backends().getOrDefault(route.name(), 0);
  }

  /** Sessions over all routes, this gateway's and other gateways' backends. */
  private int total() {
    return byKey.size() + heldElsewhere.total();
  }

  /** Starts filling the warm pools (after the backends already on the engine were adopted). */
  public void fillPools() {
    pools.values().forEach(WarmPool::fill);
  }

  /**
   * A claim on the session a connection is for: the live one its token names on this route, else a
   * new one. A token this gateway did not issue for this route, or that expired, is refused with
   * {@link Failure#INVALID_TOKEN} before any lookup; a valid token whose session is gone (its
   * backend exited, or it ended) gets a new session and token. Completes on the caller's loop,
   * which is also where a new session's frames will travel.
   *
   * @param client the client's address, for per-client admission
   */
  public Future<Arrival> claim(String presentedToken, RouteConfig route, String client) {
    ContextInternal current = ContextInternal.current();
    Context clientLoop = current == null ? null : current.unwrap();
    if (presentedToken == null) {
      try {
        clients.check(client); // a flood from one address is refused where it arrives
      } catch (FailureException refused) {
        return Future.failedFuture(refused);
      }
    }
    return EventLoops.call(services.control(), () -> claimHere(presentedToken, route, client, clientLoop));
  }

  private Future<Arrival> claimHere(String presentedToken, RouteConfig route, String client, Context clientLoop) {
    if (draining) {
      throw new FailureException(Failure.DRAINING, "the gateway is draining for shutdown (sessions.drainDeadline)");
    }
    if (presentedToken == null) {
      return Future.succeededFuture(open(route, client, clientLoop, false));
    }
    SessionId id = services.tokens().check(presentedToken, route.name()).orElseThrow(() -> new FailureException(
        Failure.INVALID_TOKEN, "a session token from " + client + " that is malformed, forged, expired or for another route"));
    Session live = byKey.get(id.key());
    if (live != null && live.joinable() && live.route().name().equals(route.name())) {
      return Future.succeededFuture(live.arrive(presentedToken));
    }
    if (live == null) {
      // A look on the engine costs what a new session does, and valid tokens outlive their
      // sessions: admission first, engine after, or replayed tokens would starve real launches.
      clients.admit(client);
      return takeOver(id.key(), route).map(taken -> {
        if (taken != null && taken.joinable()) {
          if (clientByKey.putIfAbsent(id.key(), client) != null) {
            clients.released(client); // another client of the session came first and is counted
          }
          return taken.arrive(presentedToken);
        }
        clients.released(client);
        LOG.info("a client came back for session " + id.key() + ", which no gateway holds: it gets a new session");
        return open(route, client, clientLoop, true);
      }).onFailure(error -> clients.released(client));
    }
    LOG.info("a client came back for session " + id.key() + ", which is " + live.state() + ": it gets a new session");
    return Future.succeededFuture(open(route, client, clientLoop, false));
  }

  /**
   * The session {@code key} as this gateway holds it after taking it over from the gateway that
   * held it (a client came back here), or null when the engine runs no backend for it. Clients of
   * the same session arriving meanwhile wait for the one take-over.
   */
  private Future<Session> takeOver(String key, RouteConfig route) {
    Future<Session> inFlight = takingOver.get(key);
    if (inFlight != null) {
      return inFlight;
    }
    Future<Session> taken = services.launcher().takeOver(route, key).map(backend -> {
      if (backend == null || byKey.containsKey(key)) {
        return byKey.get(key);
      }
      Session session = add(Session.adopt(backend, versionOf(route, backend.version()), services, this::forget));
      session.connectAdopted();
      return session;
    });
    takingOver.put(key, taken);
    // After the put: a launcher that has nothing to take over completes at once.
    taken.onComplete(done -> takingOver.remove(key, taken));
    return taken;
  }

  /**
   * A new session on {@code route}, claimed and its backend launching, if every admission limit allows it.
   *
   * @param rateCounted whether this request was already counted against the client's rate (a look for a gone session)
   */
  private Arrival open(RouteConfig route, String client, Context clientLoop, boolean rateCounted) {
    if (admissionsPaused) {
      throw new FailureException(Failure.ADMISSIONS_PAUSED, "an operator paused admissions (admin API)");
    }
    EngineStatus engine = services.launcher().engineStatus();
    if (engine.stalled()) {
      throw new FailureException(Failure.ENGINE_UNAVAILABLE, "the engine takes calls and does not answer them ("
          + engine.detail() + "); new sessions wait until it answers again");
    }
    if (total() >= config.sessions().maxSessions()) {
      throw new FailureException(Failure.GATEWAY_FULL, "the gateways hold their maximum of "
          + config.sessions().maxSessions() + " sessions (sessions.maxSessions; " + byKey.size() + " on this one)");
    }
    int current = onRoute(route);
    if (current >= route.maxSessions()) {
      throw new FailureException(Failure.CAPACITY, "route " + route.name() + " holds its maximum of "
          + route.maxSessions() + " sessions (" + route.key("maxSessions") + "; "
          + countByRoute.getOrDefault(route.name(), 0) + " on this gateway)");
    }
    if (!services.gate().hasRoom()) {
      throw new FailureException(Failure.LAUNCH_QUEUE_FULL, "launches run and wait at their limits "
          + "(sessions.launches.maxConcurrent, sessions.launches.queue)");
    }
    clients.requireStartRoom(client);
    if (rateCounted) {
      clients.hold(client);
    } else {
      clients.admit(client);
    }
    SessionId id = services.tokens().issue(route.name(), route.timeouts().maxLifetime());
    clientByKey.put(id.key(), client);
    RouteConfig version = services.canaries().choose(route);
    Session session = add(Session.create(id, version, services, this::forget,
        clientLoop != null ? clientLoop : services.loops().next()));
    Arrival claim = session.arrive(id.token());
    clients.starting(client);
    session.launch(version == route ? pools.get(route.name()) : null).onComplete(launched -> clients.started(client));
    return claim;
  }

  private Session add(Session session) {
    byKey.put(session.id().key(), session);
    countByRoute.merge(session.route().name(), 1, Integer::sum);
    return session;
  }

  private void countHeldElsewhere() {
    services.launcher().heldElsewhere()
        .onSuccess(counts -> {
          heldElsewhere = counts;
          fillPools(); // a pool's share follows the gateways serving its route
        })
        .onFailure(error -> LOG.fine("cannot count other gateways' backends: " + error.getMessage()));
  }

  /** Adopts what the engine runs and no session holds; completes once every one is registered. */
  public Future<Integer> discover() {
    if (discovering) {
      return Future.succeededFuture(0);
    }
    discovering = true;
    return services.launcher().discover()
        .map(found -> {
          int adopted = 0;
          for (Backend backend : found) {
            adopted += adopt(backend) ? 1 : 0;
          }
          drains.review(byKey.values(), this::runningNow);
          return adopted;
        })
        .onFailure(error -> LOG.warning("cannot look for sessions on the engine: " + error.getMessage()))
        .onComplete(done -> discovering = false);
  }

  private boolean adopt(Backend backend) {
    Optional<RouteConfig> route = config.route(backend.routeName());
    if (backend.sessionKey() == null) { // a pool entry, not claimed yet
      WarmPool pool = pools.get(backend.routeName());
      if (pool == null) {
        backend.stop();
      } else {
        pool.adopt(backend);
      }
      return false;
    }
    Session holder = byKey.get(backend.sessionKey());
    if (route.isEmpty()) {
      LOG.warning(backend.description() + " belongs to route '" + backend.routeName()
          + "', which the config no longer has: stopping it");
      backend.stop();
      return false;
    }
    if (holder != null && holder.runsOn(backend)) {
      // Found while a client's take-over made it this gateway's and before that was registered:
      // the same backend, already held.
      return false;
    }
    if (holder != null) {
      LOG.warning(backend.description() + " duplicates the backend of live " + holder + ": stopping it");
      backend.stop();
      return false;
    }
    add(Session.adopt(backend, versionOf(route.get(), backend.version()), services, this::forget)).connectAdopted();
    return true;
  }

  /** {@code route} as it runs {@code version}: itself, its canary, or a version it no longer runs (draining). */
  private static RouteConfig versionOf(RouteConfig route, String version) {
    if (version == null || version.equals(route.version())) {
      return route;
    }
    return route.canary() != null && route.canary().version().equals(version) ? route.asCanary() : route.asRetired(version);
  }

  /** Looks at the engine every {@code sessions.reapInterval}, so nothing a failure left stays behind. */
  public void startReaping() {
    countHeldElsewhere();
    countTimer = services.vertx().setPeriodic(COUNT_INTERVAL_MS, id -> countHeldElsewhere());
    reapTimer = services.vertx().setPeriodic(config.sessions().reapInterval().toMillis(), id -> {
      clients.prune();
      fillPools();
      discover().onSuccess(adopted -> {
        if (adopted > 0) {
          LOG.info("adopted " + adopted + " backend(s) that no session held; they end after the grace period unless a client comes back");
        }
      });
    });
  }

  /**
   * Stops taking connections, for a graceful shutdown: every claim from now on is refused with
   * {@link Failure#DRAINING}, and readiness says so; sessions and their attached clients go on.
   */
  public void drain() {
    draining = true;
  }

  /** Whether the gateway takes new connections (readiness); read from any thread. */
  public boolean accepting() {
    return !draining;
  }

  /** Sessions with a client attached, on the control loop. */
  public int attached() {
    return (int) byKey.values().stream().filter(session -> session.state() == SessionState.ATTACHED).count();
  }

  /** Pauses or resumes new sessions (admin API); sessions that exist still take their clients back. */
  public Future<Boolean> pauseAdmissions(boolean paused) {
    return EventLoops.call(services.control(), () -> {
      if (paused != admissionsPaused) {
        LOG.info(paused ? "admissions paused by the operator: no new session starts until resumed"
            : "admissions resumed by the operator");
      }
      admissionsPaused = paused;
      return Future.succeededFuture(paused);
    });
  }

  /** Whether admissions are paused, on the caller's loop. */
  public Future<Boolean> admissionsPaused() {
    return EventLoops.call(services.control(), () -> Future.succeededFuture(admissionsPaused));
  }

  /** What every session looks like now, for the admin API, on the caller's loop. */
  public Future<List<Session.Snapshot>> snapshot() {
    return EventLoops.call(services.control(), () ->
        Future.succeededFuture(byKey.values().stream().map(Session::snapshot).toList()));
  }

  /** Ends the session with public key {@code key} for an operator; false when there is none. */
  public Future<Boolean> endByOperator(String key) {
    return EventLoops.call(services.control(), () -> {
      Session session = byKey.get(key);
      if (session == null || !session.live()) {
        return Future.succeededFuture(false);
      }
      return session.end(Failure.ENDED_BY_OPERATOR, "ended through the admin API").map(true);
    });
  }

  /**
   * Drains {@code version} of {@code route} now: its sessions are told to reconnect after
   * {@code deadline}. A canary is braked first, so it takes no new session meanwhile. Fails with
   * why when that version cannot be drained (the route's own version, or none such).
   */
  public Future<Integer> drainVersion(String route, String version, java.time.Duration deadline) {
    return EventLoops.call(services.control(), () -> {
      Optional<RouteConfig> current = config.route(route);
      if (current.isPresent() && current.get().version().equals(version)) {
        return Future.failedFuture(new IllegalStateException("version " + version + " is route " + route
            + "'s own: new sessions start on it. Change the route's version (or roll back) in the config and reload first"));
      }
      if (current.isPresent() && current.get().runs(version)) {
        services.canaries().brake(route, "drained by an operator");
        drainedCanaries.put(route, version);
      }
      drains.review(byKey.values(), this::runningNow);
      if (!drains.drainBy(route, version, deadline)) {
        return Future.failedFuture(new java.util.NoSuchElementException("route " + route + " has no session on version "
            + version));
      }
      return Future.succeededFuture((int) byKey.values().stream().filter(session -> session.live()
          && session.route().name().equals(route) && session.route().version().equals(version)).count());
    });
  }

  /**
   * The route called {@code name} as far as draining goes: a canary an operator drained counts as
   * no longer run (one the brake stopped still does: its live sessions are left alone).
   */
  private Optional<RouteConfig> runningNow(String name) {
    return config.route(name).map(route -> route.canary() != null
        && route.canary().version().equals(drainedCanaries.get(name)) ? route.asRetired(route.version()) : route);
  }

  /** What runs where: every route's versions, canaries and draining versions, for the admin API, on the caller's loop. */
  public Future<Versions> versions() {
    return EventLoops.call(services.control(), () -> {
      Map<String, Map<String, Integer>> live = new HashMap<>();
      for (Session session : byKey.values()) {
        if (session.live()) {
          live.computeIfAbsent(session.route().name(), name -> new HashMap<>()).merge(session.route().version(), 1, Integer::sum);
        }
      }
      return Future.succeededFuture(new Versions(config.routes(), live, services.canaries().status(),
          drains.status(byKey.values())));
    });
  }

  /**
   * @param live sessions not ending, by route and version
   */
  public record Versions(List<RouteConfig> routes, Map<String, Map<String, Integer>> live, List<Canaries.Status> canaries,
      List<VersionDrains.Status> draining) {}

  /**
   * Everything the registry counts and holds, for a leak audit: once no session is left and the
   * reaper has run, all of it but the pools is back to zero.
   *
   * @param sessions sessions in the map, in any state
   * @param countedOnRoutes the per-route session counts, summed (equal to {@code sessions})
   * @param clientSlots sessions counted against client addresses
   * @param clientAddresses addresses holding at least one session
   * @param takingOver take-overs from other gateways in flight
   * @param launches launches running or waiting for a slot
   * @param pooled idle backends in the warm pools
   */
  public record Holdings(int sessions, int countedOnRoutes, int clientSlots, int clientAddresses, int takingOver,
      int launches, int pooled) {}

  /** What the registry holds now, on the caller's loop. */
  public Future<Holdings> holdings() {
    return EventLoops.call(services.control(), () -> Future.succeededFuture(new Holdings(byKey.size(),
        countByRoute.values().stream().mapToInt(Integer::intValue).sum(), clients.slots(), clients.addresses(),
        takingOver.size(), services.gate().inFlight(), pools.values().stream().mapToInt(WarmPool::idle).sum())));
  }

  /** The launcher's engine as it looks now, from any thread. */
  public EngineStatus engine() {
    return services.launcher().engineStatus();
  }

  /** The number of sessions; read from any thread, for gauges. */
  public int size() {
    return byKey.size();
  }

  /** Sessions per state, for /health, on the caller's loop. */
  public Future<Map<SessionState, Integer>> countByState() {
    return EventLoops.call(services.control(), () -> {
      Map<SessionState, Integer> counts = new HashMap<>();
      byKey.values().forEach(session -> counts.merge(session.state(), 1, Integer::sum));
      return Future.succeededFuture(counts);
    });
  }

  /**
   * At shutdown: with {@code keep}, lets every session go with its backend still running (a new
   * gateway adopts it); otherwise ends every session and stops its backend. Completes when done
   * (stop failures are logged by the launcher: a shutdown goes on regardless).
   */
  public Future<Void> shutdown(boolean keepBackends) {
    if (reapTimer >= 0) {
      services.vertx().cancelTimer(reapTimer);
    }
    if (countTimer >= 0) {
      services.vertx().cancelTimer(countTimer);
    }
    List<Future<Void>> stops = new ArrayList<>();
    for (Session session : List.copyOf(byKey.values())) {
      if (keepBackends && session.live()) {
        stops.add(session.handOff());
      } else {
        stops.add(session.end(Failure.SHUTDOWN, "the gateway is shutting down (sessions.onShutdown: end)"));
      }
    }
    pools.values().forEach(pool -> stops.add(pool.close(!keepBackends)));
    return Future.join(stops).<Void>mapEmpty().otherwiseEmpty();
  }

  private void forget(Session session) {
    if (byKey.remove(session.id().key(), session)) {
      countByRoute.merge(session.route().name(), -1, Integer::sum);
      String client = clientByKey.remove(session.id().key());
      if (client != null) {
        clients.released(client);
      }
    }
  }
}
