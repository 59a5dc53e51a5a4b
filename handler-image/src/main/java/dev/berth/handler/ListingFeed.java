package dev.berth.handler;

import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The live listing-update feed of one websocket connection, generated locally; its ticks run on
 * the server's one scheduler thread.
 *
 * <p>Events are paced by elapsed time rather than by counting ticks, so a rate is kept exactly
 * whatever the tick period. When the peer does not keep up (the writer's backlog is large), or
 * while the connection is in the middle of echoing a fragmented message (a new message may not
 * start before its final frame, RFC 6455 section 5.4), the tick's events are dropped, never
 * queued: the process never grows, a tick never blocks, and as {@code seq} is only taken for an
 * event actually queued, the client sees it increase by one, with no gaps.
 */
public final class ListingFeed implements Runnable {

    static final List<String> CITIES = List.of(
            "Lisbon",
            "Porto",
            "Madrid",
            "Barcelona",
            "Paris",
            "Lyon",
            "Berlin",
            "Hamburg",
            "Amsterdam",
            "Vienna",
            "Prague",
            "Copenhagen");
    static final List<String> STATUSES = List.of("new", "price_change", "sold");

    /** Shortest timer period; above 100 events/s several events go out per tick. */
    private static final long MIN_PERIOD_MS = 10;

    private final ScheduledExecutorService scheduler;
    private final FrameWriter writer;
    private final SessionState state;

    private int perSecond;
    private ScheduledFuture<?> timer;
    private long startedNanos;
    private long emitted;

    ListingFeed(ScheduledExecutorService scheduler, FrameWriter writer, SessionState state) {
        this.scheduler = scheduler;
        this.writer = writer;
        this.state = state;
    }

    /** Current events per second, 0 when stopped. */
    public synchronized int perSecond() {
        return perSecond;
    }

    /** (Re)starts the feed at {@code eventsPerSecond}; 0 stops it. */
    public synchronized void rate(int eventsPerSecond) {
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
        timer = scheduler.scheduleAtFixedRate(this, period, period, TimeUnit.MILLISECONDS);
    }

    /** Stops the feed; safe to call more than once. */
    public synchronized void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        perSecond = 0;
    }

    /** One tick. */
    @Override
    public void run() {
        long count;
        synchronized (this) {
            if (timer == null) {
                return; // stopped meanwhile
            }
            long due = (System.nanoTime() - startedNanos) / 1_000_000L * perSecond / 1000L;
            count = due - emitted;
            emitted = due;
        }
        for (long i = 0; i < count; i++) {
            // Checked and sent under the writer's lock: no echo can open a message in between.
            synchronized (writer) {
                if (!writer.feedMayWrite()) {
                    return; // mid-message or backpressure: skip the rest of this tick
                }
                writer.send(nextEvent(state.nextListingSeq(), System.currentTimeMillis()));
            }
        }
    }

    /**
     * One listing-update event:
     * {@code {"type":"listing","seq":..,"id":"L-..","city":..,"price":..,"status":..,"at":..}}.
     */
    static String nextEvent(long seq, long at) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return new Json.Writer()
                .put("type", "listing")
                .put("seq", seq)
                .put("id", "L-" + random.nextInt(10_000, 100_000))
                .put("city", CITIES.get(random.nextInt(CITIES.size())))
                .put("price", random.nextInt(60, 2_500) * 1_000)
                .put("status", STATUSES.get(random.nextInt(STATUSES.size())))
                .put("at", at)
                .toString();
    }
}
