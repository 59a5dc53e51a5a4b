package dev.berth.gateway.pool;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.Launcher;
import dev.berth.gateway.loops.EventLoops;
import dev.berth.gateway.pipe.BackendDialer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

/**
 * Ready backends of one route waiting to be claimed, so a new session starts without waiting for
 * a container and a JVM. Each entry is launched with no session, made ready, and dialled: the
 * gateway holds its websocket (which also keeps the handler from exiting idle), and a claim is
 * the launcher's atomic claim plus one frame naming the session. The pool refills one backend at
 * a time, only while admission has room, so refills never crowd out live sessions. Its size is
 * this gateway's share of the route's {@code pool.size} (see {@link #share}). Lives on the
 * control loop; each entry's websocket is dialled from a data loop in turn, where the session that
 * claims it will pipe it.
 */
public final class WarmPool {

  /** A ready backend and the gateway's websocket to it, dialled from {@code loop}. */
  public record Entry(Backend backend, WebSocket socket, Context loop) {}

  /** A claimed entry, with the handler's first frame (its hello), already read, to pass on. */
  public record Claimed(Backend backend, WebSocket socket, Context loop, WebSocketFrame hello) {}

  private static final Logger LOG = Logger.getLogger(WarmPool.class.getName());
  private static final long RETRY_AFTER_FAILURE_MS = 2000;
  private static final long CLAIM_TIMEOUT_MS = 2000;
  /** How long an adopted entry is given to greet unasked, which only a handler claimed before does. */
  private static final long GREETING_WAIT_MS = 1000;
  private static final long NAMING_RETRY_MS = 2000;

  private final Vertx vertx;
  private final ContextInternal control;
  private final EventLoops loops;
  private final RouteConfig route;
  private final Launcher launcher;
  private final BackendDialer dialer;
  private final PoolMeter meter;
  private final BooleanSupplier roomToGrow;
  private final IntSupplier size;
  private final Consumer<Backend> sessionFound;
  private final ArrayDeque<Entry> idle = new ArrayDeque<>();
  private int starting;
  /**
   * A start failed and the next try is waiting for its timer: until then no other call starts
   * one, so a pool whose engine is away tries once every {@link #RETRY_AFTER_FAILURE_MS}, however
   * often sessions, the reaper and lost entries ask it to fill (it tried several times a second).
   */
  private boolean retryPending;
  /**
   * Entries found on the engine and being looked at, each completing once settled: they count as
   * the pool's while they are, and closing waits for them.
   */
  private final List<Future<Void>> adopting = new java.util.ArrayList<>();
  /** Set by {@link #close}: whether what the pool holds is stopped or left for the next gateway. */
  private boolean stopOnClose;
  /** Completes when the entry being started is parked, or stopped if the pool closed meanwhile. */
  private Future<Void> startSettled = Future.succeededFuture();
  private boolean closed;

  /**
   * @param roomToGrow whether admission limits leave room for one more backend
   * @param size how many idle backends this gateway keeps now: its share of the route's pool
   * @param sessionFound takes a pool backend that turns out to serve a session already (claimed by
   *     a gateway that died before the engine had its session's name), named after it now
   */
  public WarmPool(Vertx vertx, Context control, EventLoops loops, RouteConfig route, Launcher launcher,
      BackendDialer dialer, PoolMeter meter, BooleanSupplier roomToGrow, IntSupplier size,
      Consumer<Backend> sessionFound) {
    this.vertx = vertx;
    this.control = (ContextInternal) control;
    this.loops = loops;
    this.route = route;
    this.launcher = launcher;
    this.dialer = dialer;
    this.meter = meter;
    this.roomToGrow = roomToGrow;
    this.size = size;
    this.sessionFound = sessionFound;
  }

  /**
   * This gateway's share of a route's pool of {@code poolSize}, which is the whole deployment's:
   * split evenly over the gateways holding backends of the route ({@code self} and {@code others},
   * their ids), the remainder to the first ids in order, and at least one each, so that a new
   * session starts at once on whichever gateway its client lands.
   */
  public static int share(int poolSize, String self, Set<String> others) {
    if (poolSize == 0 || others.isEmpty() || others.equals(Set.of(self))) {
      return poolSize;
    }
    TreeSet<String> all = new TreeSet<>(others);
    all.add(self);
    int rank = all.headSet(self).size();
    return Math.max(1, poolSize / all.size() + (rank < poolSize % all.size() ? 1 : 0));
  }

  /** The route (and so the version) its backends run. */
  public RouteConfig route() {
    return route;
  }

  public int idle() {
    return idle.size();
  }

  /**
   * Starts one more entry if the pool is short, none is starting, and admission has room; stops
   * idle entries past its size, which shrinks when another gateway starts serving the route.
   */
  public void fill() {
    while (!closed && idle.size() > size.getAsInt()) {
      Entry surplus = idle.pollLast();
      stopWatching(surplus.socket());
      surplus.socket().close();
      surplus.backend().stop();
      LOG.info("pool of route " + route.name() + ": stopped " + surplus.backend().description() + ", this gateway's"
          + " share of the pool is " + size.getAsInt() + " now");
    }
    if (closed || starting > 0 || retryPending || idle.size() + adopting.size() >= size.getAsInt()
        || !roomToGrow.getAsBoolean()) {
      return;
    }
    starting++;
    long begun = System.nanoTime();
    Promise<Void> settled = Promise.promise();
    startSettled = settled.future();
    launcher.launch(LaunchRequest.forPool(route))
        .compose(backend -> dial(backend))
        .onComplete(launched -> {
          starting--;
          if (launched.succeeded()) {
            meter.refilled(route.name(), Duration.ofNanos(System.nanoTime() - begun));
            park(launched.result()).onComplete(settled);
            fill();
          } else {
            settled.complete();
            LOG.warning("pool of route " + route.name() + ": cannot start a backend (" + launched.cause().getMessage()
                + "); trying again in " + RETRY_AFTER_FAILURE_MS + "ms");
            retryPending = true;
            vertx.setTimer(RETRY_AFTER_FAILURE_MS, id -> {
              retryPending = false;
              fill();
            });
          }
        });
  }

  /**
   * A pooled backend an earlier gateway left running, dialled and given a moment to greet: a
   * handler claimed before greets every new connection at once with its session's hello (the
   * gateway that claimed it died before the engine had the session's name), and is that session's,
   * not the pool's. A silent one is unclaimed: parked again, or stopped when the pool is full. One
   * that does not answer (still starting, or another gateway's and not ready yet) is left for a
   * later look.
   */
  public void adopt(Backend pooled) {
    Context loop = loops.next();
    Future<Void> settled = dialer.dial(pooled, route.path(), loop)
        .compose(socket -> EventLoops.call(loop, () -> greeting(socket))) // on the socket's own loop, as a claim
        .transform(greeted -> settle(pooled, loop, greeted));
    adopting.add(settled);
    settled.onComplete(done -> {
      adopting.remove(settled);
      fill(); // it was counted as the pool's while it was looked at
    });
  }

  /** What becomes of an adopted entry once it greeted, or did not; completes when that is done. */
  private Future<Void> settle(Backend pooled, Context loop, io.vertx.core.AsyncResult<Greeting> greeted) {
    if (greeted.failed()) {
      pooled.release(); // still starting, maybe: the reaper's next look finds it again
      return Future.succeededFuture();
    }
    WebSocket socket = greeted.result().socket();
    String session = greeted.result().session();
    if (session == null && !closed && idle.size() < size.getAsInt()) {
      return park(new Entry(pooled, socket, loop));
    }
    socket.close();
    if (session != null) {
      foundClaimed(pooled, session);
      return Future.succeededFuture();
    }
    if (closed) { // the gateway is stopping: its pool's backends go or stay with the others
      if (stopOnClose) {
        return pooled.stop();
      }
      pooled.release();
      return Future.succeededFuture();
    }
    return stopSurplus(pooled);
  }

  /** A dialled pool entry and the session its hello named unasked, or null when it said nothing. */
  private record Greeting(WebSocket socket, String session) {}

  /** What an adopted entry says unasked within {@link #GREETING_WAIT_MS}; fails if it closes, or says something else. */
  private Future<Greeting> greeting(WebSocket socket) {
    Promise<Greeting> said = Promise.promise(); // completed on the socket's loop, by its events or the timer
    try {
      socket.closeHandler(v -> said.tryFail("its websocket closed"));
      socket.frameHandler(frame -> {
        if (frame.isText() || frame.isBinary()) {
          socket.pause();
          stopWatching(socket);
          String session = sessionOf(frame);
          if (session == null) {
            said.tryFail("it sent a frame unasked that is no hello naming a session");
          } else {
            said.tryComplete(new Greeting(socket, session));
          }
        }
      });
    } catch (IllegalStateException closedOnItsLoop) {
      return Future.failedFuture("its websocket closed");
    }
    long timer = vertx.setTimer(GREETING_WAIT_MS, id -> said.tryComplete(new Greeting(socket, null)));
    socket.resume();
    return said.future().onComplete(done -> {
      vertx.cancelTimer(timer);
      socket.pause();
      stopWatching(socket);
    });
  }

  /** The session a handler's hello names ({@code {"type":"hello","session":KEY,...}}), or null. */
  private static String sessionOf(WebSocketFrame frame) {
    if (!frame.isText() || !frame.isFinal()) {
      return null;
    }
    try {
      JsonObject hello = new JsonObject(frame.textData());
      return "hello".equals(hello.getString("type")) ? hello.getString("session") : null;
    } catch (RuntimeException notAHello) {
      return null;
    }
  }

  /**
   * A pool backend that serves {@code session} already: named after it and handed to the
   * registry as that session, whose client can come back to it. While the engine cannot rename
   * it, it is let go, and the next look on the engine finds it again.
   */
  private void foundClaimed(Backend pooled, String session) {
    LOG.warning("pool of route " + route.name() + ": " + pooled.description() + " serves session " + session
        + " already (its gateway stopped before the engine had the session's name): adopting it as that session");
    launcher.claim(pooled, session).onComplete(named -> {
      if (named.succeeded()) {
        sessionFound.accept(named.result());
      } else {
        pooled.release();
        LOG.warning("pool of route " + route.name() + ": cannot name " + pooled.description() + " after session "
            + session + " yet (" + named.cause().getMessage() + "); the next look on the engine tries again");
      }
    });
  }

  /** A pool backend of this gateway's that the pool has no room for: nothing else would ever claim it. */
  private Future<Void> stopSurplus(Backend pooled) {
    LOG.info("pool of route " + route.name() + ": stopping " + pooled.description() + ", the pool is full");
    return pooled.stop();
  }

  private Future<Entry> dial(Backend backend) {
    Context loop = loops.next();
    return dialer.dial(backend, route.path(), loop)
        .map(socket -> new Entry(backend, socket, loop))
        .recover(error -> backend.stop().transform(stopped -> Future.failedFuture(error)));
  }

  /** Completes at once, or when the entry was stopped because the pool closed while it started. */
  private Future<Void> park(Entry entry) {
    if (closed) {
      entry.socket().close();
      return entry.backend().stop();
    }
    idle.add(entry);
    Runnable lost = () -> {
      if (idle.remove(entry)) {
        entry.backend().stop();
        fill();
      }
    };
    try {
      entry.socket().closeHandler(EventLoops.on(control, v -> lost.run()));
    } catch (IllegalStateException closedOnItsLoop) {
      lost.run(); // its handler stopped or died between the dial and now
      return Future.succeededFuture();
    }
    entry.backend().exited().onSuccess(why -> lost.run());
    LOG.info("pool of route " + route.name() + ": " + entry.backend().description() + " ready (" + idle.size()
        + " of " + size.getAsInt() + " idle)");
    return Future.succeededFuture();
  }

  /**
   * A ready backend for session {@code key}, dialled from {@code loop} if one is, or null when the
   * pool is empty. The handler itself
   * settles the claim: it accepts the first session it is claimed for and answers with its hello,
   * and refuses any other (1008), so gateways that share a pool entry can never both get it. A lost
   * entry is let go, not stopped (it is someone's now), and the next one tried. The winner then
   * names the container after the session, for a restarted gateway to find, without waiting.
   */
  public Future<Claimed> take(String key, Context loop) {
    Entry entry = idle.stream().filter(ready -> EventLoops.sameLoop(ready.loop(), loop)).findFirst().orElse(idle.peek());
    if (entry == null) {
      meter.claimed(route.name(), false);
      fill();
      return Future.succeededFuture(null);
    }
    idle.remove(entry);
    meter.claimed(route.name(), true);
    fill();
    return claimFromHandler(entry, key)
        .recover(lost -> {
          entry.socket().close();
          if (lost instanceof AlreadyClaimed claimed) {
            foundClaimed(entry.backend(), claimed.session);
          } else if (lost instanceof ClaimRefused) {
            entry.backend().release(); // another gateway's claim won: the backend is its session now
          } else {
            entry.backend().stop(); // no answer, or gone: of no use to anyone
          }
          LOG.info("pool of route " + route.name() + ": " + entry.backend().description() + " not claimed ("
              + lost.getMessage() + "); trying the next one");
          return take(key, loop);
        })
        .onSuccess(claimed -> {
          if (claimed != null && claimed.backend() == entry.backend()) {
            nameAfterSession(entry.backend(), key, NAMING_RETRY_MS);
          }
        });
  }

  /**
   * Off the session's critical path: the engine call takes longer than the whole claim. While the
   * engine is away it is tried again (every 2 s, then less often, up to 30 s) as long as the
   * backend runs; a gateway restarted before it worked finds the session all the same, by the
   * hello its handler greets the pool with.
   */
  private void nameAfterSession(Backend backend, String key, long retryMs) {
    launcher.claim(backend, key).onFailure(unnamed -> {
      if (backend.exited().isComplete()) {
        return; // its session is over
      }
      LOG.warning("pool of route " + route.name() + ": session " + key + " runs in " + backend.description()
          + " but the engine does not have its name yet (" + unnamed.getMessage() + "); trying again in " + retryMs + "ms");
      vertx.setTimer(retryMs, id -> nameAfterSession(backend, key, Math.min(retryMs * 2, 30_000)));
    });
  }

  /** The handler greeted the claim with the hello of another session: it was claimed before, for that one. */
  private static final class AlreadyClaimed extends RuntimeException {
    final String session;

    AlreadyClaimed(String session) {
      super("it serves session " + session + " already", null, false, false);
      this.session = session;
    }
  }

  /** The handler refused the claim (it was claimed for another session first). */
  private static final class ClaimRefused extends RuntimeException {
    ClaimRefused(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Claims the entry's handler for session {@code key}, on the loop its websocket lives on (as the
   * pipe that takes it over does): its handlers, its writes, its pause and resume never race its
   * own events on another thread. Completes on the caller's loop.
   */
  private Future<Claimed> claimFromHandler(Entry entry, String key) {
    return EventLoops.call(entry.loop(), () -> claimOnItsLoop(entry, key));
  }

  private Future<Claimed> claimOnItsLoop(Entry entry, String key) {
    WebSocket socket = entry.socket();
    Promise<Claimed> answered = Promise.promise(); // completed on this loop, by the socket's events or the timer
    try {
      socket.closeHandler(v -> answered.tryFail(socket.closeStatusCode() != null && socket.closeStatusCode() == 1008
          ? new ClaimRefused("refused: 1008 " + socket.closeReason())
          : new IllegalStateException("closed: " + socket.closeStatusCode() + " " + socket.closeReason())));
      socket.frameHandler(frame -> {
        if (frame.isText() || frame.isBinary()) {
          socket.pause(); // the rest waits for the session's pipe
          stopWatching(socket); // at once: no later frame reaches this handler
          String greeted = sessionOf(frame);
          if (greeted != null && !greeted.equals(key)) {
            answered.tryFail(new AlreadyClaimed(greeted)); // its greeting on connect, before our claim
          } else {
            answered.tryComplete(new Claimed(entry.backend(), socket, entry.loop(), frame));
          }
        }
      });
    } catch (IllegalStateException closedOnItsLoop) {
      return Future.failedFuture("its websocket closed while it waited in the pool");
    }
    long timer = vertx.setTimer(CLAIM_TIMEOUT_MS, id -> answered.tryFail("no answer to the claim within " + CLAIM_TIMEOUT_MS + "ms"));
    socket.writeTextMessage(new JsonObject().put("cmd", "claim").put("session", key).encode());
    socket.resume();
    return answered.future().onComplete(done -> {
      vertx.cancelTimer(timer);
      stopWatching(socket); // from now on the session (or no one) watches it
    });
  }

  /** Takes the pool's handlers off an entry's websocket, which may have closed meanwhile on its own loop. */
  private static void stopWatching(WebSocket socket) {
    try {
      socket.closeHandler(null);
      socket.frameHandler(null);
    } catch (IllegalStateException closedMeanwhile) {
      // closed: no handler runs again
    }
  }

  /**
   * Stops refilling and lets go of the idle entries: with {@code stopBackends}, removing them;
   * otherwise leaving them running for the next gateway to adopt.
   */
  public Future<Void> close(boolean stopBackends) {
    closed = true;
    stopOnClose = stopBackends;
    List<Future<Void>> stops = new java.util.ArrayList<>(idle.stream().map(entry -> {
      stopWatching(entry.socket());
      entry.socket().close();
      return stopBackends ? entry.backend().stop() : Future.<Void>succeededFuture();
    }).toList());
    idle.clear();
    stops.add(startSettled); // one still starting is stopped as it parks (or kept with the others)
    stops.addAll(adopting); // and one being looked at, as it settles
    return Future.join(stops).<Void>mapEmpty().otherwiseEmpty();
  }
}
