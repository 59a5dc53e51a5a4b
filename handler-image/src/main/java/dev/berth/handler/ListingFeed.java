package dev.berth.handler;

import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

/**
 * The live listing-update feed of one websocket connection, generated locally.
 *
 * <p>Events are paced by elapsed time rather than by counting ticks, so a rate is kept exactly
 * whatever the tick period. When the socket's write queue is full, or while the connection
 * is in the middle of echoing a fragmented message (a new message may not start before its
 * final frame, RFC 6455 section 5.4), the tick's events are dropped, never queued: the process
 * never grows, and as {@code seq} is only taken for an event actually written, the client sees
 * it increase by one, with no gaps. All methods must run on the connection's event loop.
 */
public final class ListingFeed {

  static final List<String> CITIES = List.of(
      "Lisbon", "Porto", "Madrid", "Barcelona", "Paris", "Lyon", "Berlin", "Hamburg",
      "Amsterdam", "Vienna", "Prague", "Copenhagen");
  static final List<String> STATUSES = List.of("new", "price_change", "sold");

  /** Shortest timer period; above 100 events/s several events go out per tick. */
  private static final long MIN_PERIOD_MS = 10;

  private final Vertx vertx;
  private final ServerWebSocket socket;
  private final SessionState state;
  private final BooleanSupplier holdOff;

  private int perSecond;
  private long timerId = -1;
  private long startedNanos;
  private long emitted;

  /** @param holdOff true while no message of the feed may be written (ticks are then skipped) */
  public ListingFeed(Vertx vertx, ServerWebSocket socket, SessionState state, BooleanSupplier holdOff) {
    this.vertx = vertx;
    this.socket = socket;
    this.state = state;
    this.holdOff = holdOff;
  }

  /** Current events per second, 0 when stopped. */
  public int perSecond() {
    return perSecond;
  }

  /** (Re)starts the feed at {@code eventsPerSecond}; 0 stops it. */
  public void rate(int eventsPerSecond) {
    if (eventsPerSecond < 0 || eventsPerSecond > HandlerConfig.MAX_FEED_PER_SECOND) {
      throw new IllegalArgumentException("perSecond out of range: " + eventsPerSecond);
    }
    stop();
    perSecond = eventsPerSecond;
    if (eventsPerSecond == 0) {
      return;
    }
    long period = Math.max(MIN_PERIOD_MS, 1000L / eventsPerSecond);
    startedNanos = System.nanoTime();
    emitted = 0;
    timerId = vertx.setPeriodic(period, id -> tick());
  }

  /** Stops the feed; safe to call more than once. */
  public void stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    perSecond = 0;
  }

  private void tick() {
    if (socket.isClosed()) {
      stop();
      return;
    }
    long due = (System.nanoTime() - startedNanos) / 1_000_000L * perSecond / 1000L;
    long count = due - emitted;
    emitted = due;
    if (count <= 0) {
      return;
    }
    for (long i = 0; i < count; i++) {
      if (holdOff.getAsBoolean() || socket.writeQueueFull()) {
        return; // mid-message or backpressure: skip the rest of this tick
      }
      socket.writeTextMessage(nextEvent(state.nextListingSeq(), System.currentTimeMillis()).encode());
    }
  }

  /** One listing-update event: {@code {"type":"listing","seq":..,"id":"L-..","city":..,"price":..,"status":..,"at":..}}. */
  static JsonObject nextEvent(long seq, long at) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new JsonObject()
        .put("type", "listing")
        .put("seq", seq)
        .put("id", "L-" + random.nextInt(10_000, 100_000))
        .put("city", CITIES.get(random.nextInt(CITIES.size())))
        .put("price", random.nextInt(60, 2_500) * 1_000)
        .put("status", STATUSES.get(random.nextInt(STATUSES.size())))
        .put("at", at);
  }
}
