package dev.berth.loadtest;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the soak's resume clients saw, counted across every virtual user: static counters (the
 * users run on Gatling's event loops, so they are atomic), written as one CSV row every
 * {@code statsEvery} seconds by a thread of their own and once more at the end, plus an event
 * log with one line per anomaly (time, user, what, detail), so a lost or duplicated frame can be
 * matched with the fault that preceded it.
 *
 * <p>Counters are cumulative since the start; gauges ({@code users_active}, {@code users_connected})
 * are the value at the row's time; {@code echo_p50_ms}, {@code echo_p99_ms}, {@code echo_max_ms}
 * cover the echoes completed since the previous row.
 */
final class SoakStats {

    private SoakStats() {}

    /** Every counter, in CSV column order. */
    enum Counter {
        USERS_STARTED("users_started", "virtual users that arrived"),
        USERS_DONE("users_done", "users that departed with close 1000 after their exchanges"),
        USERS_GAVE_UP("users_gave_up", "users that gave up (no connection within giveUpAfter, or past their deadline)"),
        SESSIONS_STARTED("sessions_started", "sessions seen starting: a hello naming a session key new to the user"),
        SESSIONS_ENDED("sessions_ended", "sessions the user ended itself (close 1000 acknowledged)"),
        SESSIONS_LOST(
                "sessions_lost",
                "sessions that ended under the user: after a drop, the hello named another key (its container was gone)"),
        CONNECTS("connects", "websocket handshakes that succeeded (101)"),
        CONNECT_FAILURES("connect_failures", "handshakes that failed, any reason (each retried with backoff)"),
        REFUSED_503("refused_503", "of those, refused with 503 (engine unavailable, capacity...): retried after 5 s"),
        CONNECT_REFUSED("connect_refused", "of those, TCP connection refused (no gateway listening: restarting)"),
        DROPS(
                "drops",
                "connections that closed under the user (not closed by it, not the old side of its own handover)"),
        DROPS_UNEXPLAINED(
                "drops_unexplained",
                "drops after which the same stream resumed: no restart, no lost session explains them"),
        RECONNECTS("reconnects", "handshakes after a drop or a voluntary leave (not the first, not a handover)"),
        VOLUNTARY_RECONNECTS("voluntary_reconnects", "close 1001 by the user, then a reconnect with the cookie"),
        MIDFLIGHT("midflight", "voluntary reconnects and handovers done with a message still unanswered"),
        HANDOVERS("handovers", "second websocket opened while the first was open"),
        HANDOVER_OLD_OPEN(
                "handover_old_open",
                "handovers after which the older websocket was not closed by the gateway within 5 s"),
        RESUMES_SAME_STREAM("resumes_same_stream", "resume answers naming the stream the user had"),
        NEW_STREAMS(
                "new_streams",
                "resume answers naming a new stream on a session the user had (gateway restarted, or session lost)"),
        RESTARTS_SEEN(
                "restarts_seen",
                "new streams whose hello named the same session with a higher connection number: a restarted gateway"),
        RESENT(
                "resent",
                "data messages sent again after a resume (same number on the same stream, renumbered on a new one)"),
        RENUMBERED("renumbered", "of those, renumbered for a new stream"),
        MESSAGES_SENT("messages_sent", "app messages sent (each once; resends not counted)"),
        ECHOES("echoes", "app messages whose echo came back"),
        FRAMES_RECEIVED("frames_received", "gateway data messages received (hello, echoes, listings)"),
        ACKS_RECEIVED("acks_received", "ack messages received from the gateway"),
        LISTINGS("listings", "listing updates received (the handler's feed)"),
        LOST("lost", "STREAM LEVEL: gateway sequence numbers skipped (a gap of k counts k)"),
        DUPLICATED("duplicated", "STREAM LEVEL: gateway sequence numbers received again (<= the last one)"),
        APP_REPEAT("app_repeat", "echo of a message already echoed, on the same stream: the backend saw it twice"),
        APP_LOST("app_lost", "echo missing past echoTimeout with no new stream since the send"),
        LISTING_GAP("listing_gap", "listing seq numbers skipped within one stream"),
        LISTING_REPEAT("listing_repeat", "listing seq numbers repeated within one stream"),
        CRASH_APP_REPEAT(
                "crash_app_repeat",
                "ACROSS A NEW STREAM (gateway restarted, or session lost): echo repeated (at-least-once client->backend)"),
        CRASH_APP_LOST(
                "crash_app_lost",
                "ACROSS A NEW STREAM: echo missing (acknowledged by the old gateway or backend, the echo lost with it)"),
        CRASH_LISTING_GAP(
                "crash_listing_gap",
                "ACROSS A NEW STREAM: listing seq numbers skipped (sent to a gateway or websocket that died)"),
        CRASH_LISTING_REPEAT("crash_listing_repeat", "ACROSS A NEW STREAM: listing seq numbers repeated"),
        LATE_ECHOES("late_echoes", "echoes that came after their message was given up"),
        PROTOCOL_ERRORS(
                "protocol_errors",
                "messages that break docs/sessions.md (unknown message, ack or resume out of range, data before resume)"),
        KO(
                "ko",
                "failures the faults do not explain: app_lost, app_repeat, listing gaps/repeats, unexplained drops, protocol errors, give-ups, handover leftovers, echo timeouts, resume timeouts"),
        GATLING_KO(
                "gatling_ko",
                "Gatling requests of this simulation marked KO (includes the requests a fault interrupted)");

        final String column;
        final String meaning;
        final AtomicLong value = new AtomicLong();

        Counter(String column, String meaning) {
            this.column = column;
            this.meaning = meaning;
        }
    }

    static final AtomicLong USERS_ACTIVE = new AtomicLong();
    static final AtomicLong USERS_CONNECTED = new AtomicLong();

    private static final List<Long> ECHO_MS = Collections.synchronizedList(new ArrayList<>());
    private static final Map<String, AtomicLong> EVENT_KINDS = Collections.synchronizedMap(new LinkedHashMap<>());

    private static PrintWriter csv;
    private static PrintWriter events;
    private static Thread writer;
    private static volatile boolean stopping;

    static long add(Counter counter, long delta) {
        return counter.value.addAndGet(delta);
    }

    static long inc(Counter counter) {
        return counter.value.incrementAndGet();
    }

    static long get(Counter counter) {
        return counter.value.get();
    }

    static void echoMillis(long ms) {
        ECHO_MS.add(ms);
    }

    /** One line in the event log: epoch ms, ISO time, user, kind, detail. */
    static void event(long user, String kind, String detail) {
        EVENT_KINDS.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        PrintWriter out = events;
        if (out == null) {
            return;
        }
        long now = System.currentTimeMillis();
        synchronized (SoakStats.class) {
            out.println(now + "," + Instant.ofEpochMilli(now) + "," + user + "," + kind + ","
                    + detail.replace(',', ';').replace('\n', ' '));
            out.flush();
        }
    }

    /** Opens the files and starts writing a row every {@code everySeconds}. */
    static synchronized void start(Path csvFile, Path eventsFile, int everySeconds) {
        try {
            if (csvFile.getParent() != null) {
                Files.createDirectories(csvFile.getParent());
            }
            if (eventsFile.getParent() != null) {
                Files.createDirectories(eventsFile.getParent());
            }
            csv = new PrintWriter(Files.newBufferedWriter(csvFile, StandardCharsets.UTF_8));
            events = new PrintWriter(Files.newBufferedWriter(eventsFile, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + csvFile + " or " + eventsFile + ": " + e, e);
        }
        StringBuilder header = new StringBuilder("epoch_ms,users_active,users_connected");
        for (Counter c : Counter.values()) {
            header.append(',').append(c.column);
        }
        header.append(",echo_p50_ms,echo_p99_ms,echo_max_ms");
        csv.println(header);
        events.println("epoch_ms,time,user,kind,detail");
        row();
        writer = new Thread(
                () -> {
                    // Bounded by the simulation: stop() ends it; as a daemon it cannot outlive the JVM either.
                    while (!stopping) {
                        try {
                            Thread.sleep(everySeconds * 1000L);
                        } catch (InterruptedException e) {
                            return;
                        }
                        row();
                    }
                },
                "soak-stats");
        writer.setDaemon(true);
        writer.start();
    }

    /** Writes a last row and closes the files. */
    static synchronized void stop() {
        stopping = true;
        if (writer != null) {
            writer.interrupt();
        }
        row();
        if (csv != null) {
            csv.close();
            csv = null;
        }
        if (events != null) {
            synchronized (SoakStats.class) {
                events.close();
                events = null;
            }
        }
    }

    private static synchronized void row() {
        if (csv == null) {
            return;
        }
        List<Long> echoes;
        synchronized (ECHO_MS) {
            echoes = new ArrayList<>(ECHO_MS);
            ECHO_MS.clear();
        }
        Collections.sort(echoes);
        StringBuilder line = new StringBuilder();
        line.append(System.currentTimeMillis())
                .append(',')
                .append(USERS_ACTIVE.get())
                .append(',')
                .append(USERS_CONNECTED.get());
        for (Counter c : Counter.values()) {
            line.append(',').append(c.value.get());
        }
        line.append(',')
                .append(percentile(echoes, 0.50))
                .append(',')
                .append(percentile(echoes, 0.99))
                .append(',')
                .append(echoes.isEmpty() ? "" : echoes.get(echoes.size() - 1));
        csv.println(line);
        csv.flush();
    }

    private static String percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return "";
        }
        int index = (int) Math.ceil(p * sorted.size()) - 1;
        return String.valueOf(sorted.get(Math.max(0, Math.min(sorted.size() - 1, index))));
    }

    /** The totals, for the console at the end of the run. */
    static String summary() {
        StringBuilder out = new StringBuilder("SoakSimulation totals:\n");
        for (Counter c : Counter.values()) {
            out.append(String.format("  %-22s %8d  %s%n", c.column, c.value.get(), c.meaning));
        }
        synchronized (EVENT_KINDS) {
            if (!EVENT_KINDS.isEmpty()) {
                out.append("  events by kind: ").append(EVENT_KINDS).append('\n');
            }
        }
        return out.toString();
    }
}
