package dev.berth.gateway.session;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchProgress;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.pipe.AcceptedClient;
import dev.berth.gateway.pipe.CloseCheck;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.Direction;
import dev.berth.gateway.pipe.SessionPipe;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import dev.berth.gateway.pool.WarmPool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * One user session as an explicit state machine. The session, not a client connection, owns its
 * backend and the gateway's websocket to it; clients attach and detach. Every transition is logged
 * with the session key and counted.
 *
 * <pre>
 *   LAUNCHING ──▶ CONNECTING ──▶ DETACHED ◀──▶ ATTACHED     (adopted sessions start at CONNECTING)
 *        └────────────┴──────────────┴────────────┴──▶ ENDING ──▶ GONE
 * </pre>
 *
 * Lives on the gateway's control loop, and so do its clocks; its pipe lives on a data loop (see
 * {@link EventLoops}), and a {@link Claim} may be used from any loop. {@link #end} runs once and is the only way to ENDING; a session handed
 * off at shutdown goes to GONE directly and leaves its backend running for the next gateway.
 */
public final class Session implements SessionPipe.Listener {

  public enum State {
    /** The backend is being launched. */
    LAUNCHING,
    /** The backend runs; the gateway is opening its websocket to it. */
    CONNECTING,
    /** Piped to the backend, no client: frames are held, the grace period runs. */
    DETACHED,
    /** A client is piped to the backend. */
    ATTACHED,
    /** Closing the client and stopping the backend. */
    ENDING,
    /** Over: forgotten by the registry. */
    GONE
  }

  private static final Logger LOG = Logger.getLogger(Session.class.getName());
  private static final long BACKEND_EXIT_WAIT_MS = 1000;
  /** How long a backend gets to answer the session's close frame before it is stopped anyway. */
  private static final long BACKEND_CLOSE_WAIT_MS = 1000;

  private final SessionId id;
  private final RouteConfig route;
  private final SessionServices services;
  private final Consumer<Session> onGone;
  private final Lifetimes lifetimes;
  private final Promise<Void> connected = Promise.promise();
  private final Promise<Void> over = Promise.promise();
  private State state;
  /** Until a launch or an adoption gives it one, a session has no backend to stop. */
  private Future<Backend> backend = Future.failedFuture(new FailureException(Failure.START_FAILED, "never launched"));
  /** Completed when the session ends, so a launch still waiting for a slot is withdrawn and frees it at once. */
  private final Promise<Void> launchWithdrawn = Promise.promise();
  /** A pooled backend's websocket, dialled before the session existed, and its hello. */
  private WarmPool.Claimed pooled;
  private SessionPipe pipe;
  /** The data loop the session's backend websocket is dialled from, and its pipe lives on. */
  private Context loop;
  /** The client the pipe was last told to attach, until it leaves: events about older ones are stale. */
  private ServerWebSocket attachedClient;
  /** The claim {@link #attachedClient} came with. */
  private Claim attachedClaim;
  /**
   * The connection whose close frame ended the session, set on its own loop as the frame arrives,
   * before the session hears of it (and before the client can reconnect): from then on no returning
   * client may join. Cleared when another connection attached after it, since the session then
   * ignores that close.
   */
  private volatile ServerWebSocket endedBy;
  /** When the phases of a new session's start ended, for the start timers; 0 for adopted sessions. */
  private final long createdNanos = System.nanoTime();
  private long backendNanos;
  private long pipedNanos;
  private long attachedNanos;
  private int waitingClients;
  /**
   * The launch's steps so far (of queued, only the latest), and the clients waiting for the
   * session that want to hear of each.
   */
  private final List<Progress> progress = new ArrayList<>();
  private final List<Consumer<Progress>> progressWatchers = new ArrayList<>();
  private boolean tokenDelivered;
  private boolean adopted;
  /** The close code and reason its clients were told when it ended or let go; a client accepted just after gets the same. */
  private short lastCode = (short) Failure.BACKEND_EXITED.closeCode();
  private String lastReason = Failure.BACKEND_EXITED.publicReason();

  private Session(SessionId id, RouteConfig route, SessionServices services, Consumer<Session> onGone, State first) {
    this.id = id;
    this.route = route;
    this.services = services;
    this.onGone = onGone;
    this.lifetimes = new Lifetimes(services.vertx(), route.timeouts(), this::expired, this::lastDataNanos);
    this.state = first;
    services.meter().transition(route.name(), first);
  }

  /**
   * A new session, not started yet: the registry holds it and its first client claims it before
   * {@link #launch} begins, since a launch may be over before the call that began it returns.
   *
   * @param clientLoop the loop its first client arrived on, for its pipe
   */
  static Session create(SessionId id, RouteConfig route, SessionServices services, Consumer<Session> onGone,
      Context clientLoop) {
    Session session = new Session(id, route, services, onGone, State.LAUNCHING);
    session.loop = clientLoop;
    return session;
  }

  /**
   * Starts a new session: its backend is claimed from the warm pool, or launched now when the pool
   * is empty (or there is none), before any client was accepted.
   *
   * @return the launch, complete once the backend runs or could not be started
   */
  Future<Backend> launch(WarmPool pool) {
    LOG.info(this + ": LAUNCHING version " + route.version() + (pool == null ? "" : " (" + pool.idle() + " ready in the pool)"));
    services.canaries().started(route);
    Future<WarmPool.Claimed> fromPool = pool == null ? Future.succeededFuture() : pool.take(id.key(), loop);
    backend = fromPool.compose(claimed -> {
      if (claimed == null) {
        return services.launcher().launch(new LaunchRequest(id.key(), route, launchProgress(), launchWithdrawn.future()));
      }
      pooled = claimed;
      loop = claimed.loop();
      return Future.succeededFuture(claimed.backend());
    });
    lifetimes.start();
    backend.onComplete(launched -> {
      if (launched.succeeded()) {
        connect(launched.result(), "launched " + launched.result().description());
      } else {
        end(FailureException.wrap(launched.cause(), Failure.START_FAILED, "launch").failure(),
            launched.cause().getMessage());
      }
    });
    return backend;
  }

  private LaunchProgress launchProgress() {
    return new LaunchProgress() {
      @Override
      public void queued(int ahead) {
        told(new Progress(Progress.Phase.QUEUED, ahead));
      }

      @Override
      public void starting() {
        told(new Progress(Progress.Phase.STARTING, 0));
      }

      @Override
      public void running() {
        told(new Progress(Progress.Phase.RUNNING, 0));
      }
    };
  }

  private void told(Progress step) {
    boolean stillQueued = step.phase() == Progress.Phase.QUEUED && !progress.isEmpty()
        && progress.get(progress.size() - 1).phase() == Progress.Phase.QUEUED;
    if (stillQueued) {
      progress.remove(progress.size() - 1);
    }
    progress.add(step);
    List.copyOf(progressWatchers).forEach(watcher -> watcher.accept(step));
  }

  /**
   * A session whose backend outlived an earlier gateway: found on the engine, its client may come
   * back. The registry holds it before {@link #connectAdopted} begins.
   */
  static Session adopt(Backend found, RouteConfig route, SessionServices services, Consumer<Session> onGone) {
    Session session = new Session(SessionId.ofKey(found.sessionKey()), route, services, onGone, State.CONNECTING);
    session.backend = Future.succeededFuture(found);
    session.loop = services.loops().next();
    session.adopted = true;
    session.tokenDelivered = true; // its client holds the token from before
    return session;
  }

  /** Whether {@code other} is a handle on this session's own backend. */
  boolean runsOn(Backend other) {
    return backend.succeeded() && backend.result().sameAs(other);
  }

  void connectAdopted() {
    lifetimes.start();
    connect(backend.result(), "adopted " + backend.result().description());
  }

  private void connect(Backend ready, String how) {
    if (state == State.ENDING || state == State.GONE) {
      return;
    }
    if (state != State.CONNECTING) {
      moveTo(State.CONNECTING, how);
    } else {
      LOG.info(this + ": CONNECTING (" + how + ")");
    }
    ready.exited().onSuccess(why -> end(Failure.BACKEND_EXITED, why));
    ready.movedAway().onSuccess(this::movedTo);
    long backendReady = System.nanoTime();
    backendNanos = backendReady;
    phase("backend", createdNanos, backendReady);
    Future<WebSocket> upstream = pooled == null ? services.dialer().dial(ready, route.path(), loop)
        : Future.succeededFuture(pooled.socket());
    upstream.onComplete(dialled -> {
      if (dialled.failed() && adopted) {
        // Maybe still starting (another gateway's launch in progress), maybe broken: not ours to
        // stop. The reaper looks again; a handler no one connects to exits by itself.
        ready.release();
        lifetimes.stopAll();
        connected.tryFail(new FailureException(Failure.UNREACHABLE, dialled.cause().getMessage()));
        gone("not reachable for adoption: " + dialled.cause().getMessage());
        return;
      }
      if (dialled.failed()) {
        end(Failure.UNREACHABLE, dialled.cause().getMessage());
        return;
      }
      if (state == State.ENDING || state == State.GONE) {
        dialled.result().close();
        return;
      }
      RouteConfig.Buffer bound = route.buffer();
      pipe = SessionPipe.open(services.vertx(), loop, dialled.result(), bound.maxBytes(), bound.maxFrames(),
          services.maxFrameBytes(), services.maxMessageBytes(), services.meter(), services.control(), this,
          pooled == null ? null : pooled.hello());
      pipedNanos = System.nanoTime();
      phase("upstream", backendReady, pipedNanos);
      moveTo(State.DETACHED, "piped to its backend");
      awaitClient();
      connected.tryComplete();
    });
  }

  public SessionId id() {
    return id;
  }

  public RouteConfig route() {
    return route;
  }

  public State state() {
    return state;
  }

  /** Whether a client may still join this session. */
  public boolean live() {
    return state != State.ENDING && state != State.GONE;
  }

  /**
   * Whether a returning client may join: live, and its last client has not closed it for good (a
   * close frame the session hears of a moment later, on its own loop).
   */
  boolean joinable() {
    return live() && endedBy == null;
  }

  /**
   * A client presents this session: the grace period stops now, not once its handshake is done,
   * so a client that came back in time keeps its session however long the handshake takes.
   *
   * @param token the token the client is to hold for the session
   */
  Claim claim(String token) {
    lifetimes.stopGrace();
    waitingClients++;
    return new Claim(token);
  }

  private void onControl(Runnable task) {
    EventLoops.run(services.control(), task);
  }

  /**
   * A client connection on its way to being attached; exactly one of attach or release ends it.
   * Usable from the client's loop: its calls hop to the session's.
   */
  public final class Claim {

    private final String token;
    private boolean done;
    private Consumer<Progress> progressWatcher;
    /**
     * Set on the control loop before a newer connection's handover closes this one with 4001, so
     * the client's echo of that close, read on its own loop, ends nothing.
     */
    private volatile boolean replaced;

    private Claim(String token) {
      this.token = token;
    }

    /** The session's token, for the client to present when it comes back. */
    public String token() {
      return token;
    }

    /**
     * Completes once the session is piped to its backend, on the caller's loop; fails with why it
     * never will be.
     */
    public Future<Void> ready() {
      return EventLoops.here(connected.future());
    }

    /**
     * Tells {@code watcher} each step of the launch until the session is ready (those so far at
     * once), on the session's loop; ready itself is {@link #ready()}. A session already piped has
     * no steps to tell.
     */
    public void watchProgress(Consumer<Progress> watcher) {
      onControl(() -> {
        progressWatcher = watcher;
        progressWatchers.add(watcher);
        if (!connected.future().isComplete()) {
          progress.forEach(watcher);
        }
      });
    }

    /**
     * The client sent a close frame that ends the session; from its own loop, at once (its session
     * hears of it later, through the pipe).
     */
    public void clientEnding(ServerWebSocket client) {
      // Not judged by the attached client: the previous connection's drop may reach the session
      // only after this one has closed, and this close must count all the same.
      if (!replaced) {
        endedBy = client;
      }
    }

    /** Attaches the accepted client; a client already attached is closed with 4001 (handover). */
    public void attach(AcceptedClient accepted) {
      onControl(() -> attachHere(accepted));
    }

    private void attachHere(AcceptedClient accepted) {
      ServerWebSocket client = accepted.socket();
      boolean resume = accepted.resume();
      if (!finish()) {
        client.close((short) 1011, "session claim already used");
        return;
      }
      if (!live()) {
        // It ended (or moved to another gateway, where this client was just replaced) between its
        // ready and this client's handshake: the client hears what an attached one did.
        client.close(lastCode, lastReason);
        return;
      }
      tokenDelivered = true;
      if (attachedClient != null) {
        LOG.info(Session.this + ": handover to a newer connection from " + client.remoteAddress());
        attachedClaim.replaced = true;
      }
      if (attachedNanos == 0) {
        attachedNanos = System.nanoTime();
        phase("handshake", pipedNanos, attachedNanos);
      }
      attachedClient = client;
      attachedClaim = this;
      if (endedBy != null && endedBy != client) {
        endedBy = null; // an older connection's ending close, which this one supersedes
      }
      pipe.attach(accepted, route.timeouts().keepalive());
      moveTo(State.ATTACHED, "client " + client.remoteAddress() + (resume ? " (resume protocol)" : ""));
    }

    /** The client left, or was refused, before it was attached. */
    public void release() {
      onControl(() -> {
        if (finish() && live()) {
          awaitClient();
        }
      });
    }

    private boolean finish() {
      if (done) {
        return false;
      }
      done = true;
      waitingClients--;
      progressWatchers.remove(progressWatcher);
      return true;
    }
  }

  /**
   * With no client attached or on its way, the session waits for one through the grace period;
   * unless no client ever got its token, and then no one can come back: it ends now.
   */
  private void awaitClient() {
    if (waitingClients > 0 || state == State.ATTACHED) {
      return;
    }
    if (!tokenDelivered) {
      end(Failure.ABANDONED, "the client left before its session was ready, and no one else holds its token");
    } else if (pipe != null) {
      lifetimes.startGrace();
    }
  }

  // --- what the pipe reports

  @Override
  public void clientClosed(ServerWebSocket client, Short code, String reason) {
    if (client != attachedClient) {
      return; // a newer client took its place meanwhile
    }
    boolean clientEnds = code != null && CloseCheck.endsSession(code);
    if (clientEnds) {
      end(Failure.CLIENT_ENDED, code, reason, "the client closed with " + code + describe(reason));
    } else {
      detach(null, "client " + (code == null ? "dropped" : code == CloseCheck.NO_STATUS ? "closed without a code"
          : "closed with " + code + describe(reason)));
    }
  }

  @Override
  public void clientMisbehaved(ServerWebSocket client, Failure failure, String detail) {
    if (client == attachedClient) {
      detach(failure, failure.tag() + ": " + detail);
    }
  }

  @Override
  public void backendMisbehaved(Failure failure, String detail) {
    Failure ending = Failure.BACKEND_PROTOCOL;
    if (pipe != null) {
      pipe.close(ending.closeCode(), ending.publicReason(), failure.closeCode(), failure.publicReason());
    }
    end(ending, "the backend sent " + failure.tag() + " (" + detail + "); told it " + failure.closeCode());
  }

  private void detach(Failure why, String detail) {
    if (state != State.ATTACHED) {
      return;
    }
    pipe.detach(attachedClient, why == null ? 1000 : why.closeCode(), why == null ? "" : why.publicReason());
    attachedClient = null;
    attachedClaim = null;
    moveTo(State.DETACHED, detail + "; backend kept " + route.timeouts().grace().toMillis() + "ms for a reconnect");
    awaitClient();
  }

  @Override
  public void backendClosed(Short code, String reason) {
    boolean dropped = code == null || code == 1006;
    if (dropped) {
      // A crash drops the connection a moment before the engine reports the exit, which says why
      // (killed, out of memory): give it that moment, so the end is told as what it was.
      services.vertx().setTimer(BACKEND_EXIT_WAIT_MS, id ->
          end(Failure.BACKEND_LOST, "the backend's websocket dropped without a close frame, and the backend still runs"));
    } else {
      int received = code & 0xFFFF;
      // Codes that must not go on the wire are not passed on: no status is a normal close, any
      // other is the backend's error.
      int passed = received == 1005 ? 1000 : CloseCheck.sendable(received) ? received : 1011;
      end(Failure.BACKEND_ENDED, passed, reason, "the backend closed with " + received + describe(reason));
    }
  }

  @Override
  public void bufferOverflow(long bytes, int frames) {
    end(Failure.BUFFER_OVERFLOW, "held " + frames + " frames, " + bytes + " bytes for an absent client, over "
        + route.key("buffer") + " (" + route.buffer().maxFrames() + " frames, " + route.buffer().maxBytes()
        + " bytes), although its backend was paused at half of it: a message larger than the buffer; raise it, or"
        + " listen.maxMessageSize down to it");
  }

  private long lastDataNanos() {
    return pipe == null ? createdNanos : pipe.lastDataNanos();
  }

  @Override
  public void firstFrameDelivered() {
    long now = System.nanoTime();
    phase("first_frame", attachedNanos, now);
    if (!adopted && attachedNanos > 0) {
      services.canaries().firstFrame(route, java.time.Duration.ofNanos(now - attachedNanos));
    }
    phase("total", createdNanos, now);
    if (!adopted && attachedNanos > 0) {
      LOG.info(this + ": started in " + micros(createdNanos, now) + "us: backend " + micros(createdNanos, backendNanos)
          + "us (" + (pooled != null ? "pool" : "launch") + "), upstream " + micros(backendNanos, pipedNanos)
          + "us, handshake " + micros(pipedNanos, attachedNanos) + "us, first frame " + micros(attachedNanos, now) + "us");
    }
  }

  private static long micros(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1000;
  }

  /** Records one phase of a new session's start; adopted sessions (no start here) are not timed. */
  private void phase(String name, long fromNanos, long toNanos) {
    if (!adopted && fromNanos > 0) {
      services.meter().sessionStartPhase(route.name(), name, java.time.Duration.ofNanos(toNanos - fromNanos));
    }
  }

  private void expired(Failure clock) {
    end(clock, switch (clock) {
      case GRACE_EXPIRED -> "no client for " + route.timeouts().grace().toMillis() + "ms (" + route.key("timeouts.grace") + ")";
      case IDLE_TIMEOUT -> "no data frame for " + route.timeouts().idle().toMillis() + "ms (" + route.key("timeouts.idle") + ")";
      default -> "alive for " + route.timeouts().maxLifetime().toMillis() + "ms (" + route.key("timeouts.maxLifetime") + ")";
    });
  }

  // --- the ways out

  /** Ends the session: closes its client with the failure's code, stops its backend. Runs once. */
  public Future<Void> end(Failure why, String detail) {
    return end(why, why.closeCode(), why.publicReason(), detail);
  }

  private Future<Void> end(Failure why, int clientCode, String clientReason, String detail) {
    if (!live()) {
      return over.future();
    }
    moveTo(State.ENDING, why.tag() + ": " + detail + (pipe == null ? "" : "; " + pipe.traffic()));
    lastCode = (short) (clientCode == 0 ? 1000 : clientCode);
    lastReason = clientReason;
    services.meter().ended(route.name(), why);
    if (!adopted) {
      services.canaries().failed(route, why);
    }
    lifetimes.stopAll();
    launchWithdrawn.tryComplete();
    connected.tryFail(new FailureException(why == Failure.CLIENT_ENDED ? Failure.BACKEND_ENDED : why, detail));
    Future<Void> told = Future.succeededFuture();
    if (pipe != null) {
      int backendCode = why == Failure.CLIENT_ENDED ? clientCode : 1001;
      told = pipe.close(clientCode == 0 ? 1000 : clientCode, clientReason,
          backendCode, why == Failure.CLIENT_ENDED ? clientReason : "session over: " + why.tag())
          .timeout(BACKEND_CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
    }
    told.transform(closed -> backend)
        .transform(launched -> launched.succeeded() ? launched.result().stop() : Future.<Void>succeededFuture())
        .onComplete(stopped -> gone(stopped.succeeded() ? "backend stopped"
            : "backend not removed (" + stopped.cause().getMessage() + "); its launcher tries again"));
    return over.future();
  }

  /**
   * Lets go of the session at gateway shutdown without ending it: the client is told to reconnect
   * (1012), the gateway's websocket to the backend is closed, and the backend keeps running for
   * the next gateway to adopt. Completes once both were told (or after a moment), so the gateway
   * closes its listeners only after its clients read their close code.
   */
  public Future<Void> handOff() {
    return letGo(Failure.RESTARTING, "gateway restarting", "handed off: the backend keeps running for the next gateway");
  }

  /**
   * Another gateway took the session over (its client came back there): this one's client, if any,
   * is told it was replaced (4001, as for a newer connection here), one still on its way gets 503,
   * and the session lets go of its backend without stopping it.
   */
  private void movedTo(String holder) {
    letGo(Failure.MOVED_AWAY, "taken over by gateway " + holder, "taken over by gateway " + holder);
  }

  private Future<Void> letGo(Failure toClient, String toBackend, String detail) {
    if (!live()) {
      return Future.succeededFuture();
    }
    lifetimes.stopAll();
    lastCode = (short) toClient.closeCode();
    lastReason = toClient.publicReason();
    Future<Void> told = pipe == null ? Future.succeededFuture()
        : pipe.close(toClient.closeCode(), toClient.publicReason(), 1001, toBackend)
            .timeout(BACKEND_CLOSE_WAIT_MS, TimeUnit.MILLISECONDS).otherwiseEmpty();
    gone(detail);
    // After GONE: a client still on its way is refused, and its claim's release, which may run
    // right here when its loop is this one, must not end (and stop) a backend let go of.
    connected.tryFail(new FailureException(toClient, detail));
    return told;
  }

  private void gone(String detail) {
    moveTo(State.GONE, detail);
    onGone.accept(this);
    over.tryComplete();
  }

  private void moveTo(State next, String detail) {
    LOG.info(this + ": " + state + " -> " + next + " (" + detail + ")");
    state = next;
    services.meter().transition(route.name(), next);
  }

  /** A peer's close reason for the log: its text is the peer's, so control characters are masked. */
  private static String describe(String reason) {
    return reason == null || reason.isEmpty() ? "" : " (" + reason.replaceAll("[\\p{Cntrl}\\p{Cf}]", "?") + ")";
  }

  /**
   * What an operator sees of a session (admin API).
   *
   * @param version the route's version (pinned at the session's start)
   * @param fromClient data bytes its clients sent the backend, over all connections
   * @param toClient data bytes its backend sent, over all connections
   */
  public record Snapshot(String key, String route, String version, State state, long ageSeconds, long fromClient,
      long toClient) {}

  Snapshot snapshot() {
    return new Snapshot(id.key(), route.name(), route.version(), state, (System.nanoTime() - createdNanos) / 1_000_000_000L,
        pipe == null ? 0 : pipe.bytes(Direction.CLIENT_TO_BACKEND),
        pipe == null ? 0 : pipe.bytes(Direction.BACKEND_TO_CLIENT));
  }

  @Override
  public String toString() {
    return id + " on route " + route.name() + "@" + route.version();
  }
}
