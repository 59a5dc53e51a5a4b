package dev.berth.loadtest;

import static dev.berth.loadtest.SoakStats.Counter.*;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One virtual user's side of the resume protocol ({@code berth.resume.v1}), written from
 * docs/sessions.md ("The resume protocol") and nothing else, plus the checks the soak makes on
 * what arrives. Plain Java: {@link SoakSimulation} moves the frames (Gatling's websocket DSL) and
 * calls this object, which lives in the user's Gatling session and is only ever touched from the
 * user's own event loop.
 *
 * <p>The wire rules it follows:
 *
 * <ul>
 *   <li>first message on every connection: {@code resume <r> <stream>}, r the highest gateway
 *       sequence number received in that stream ({@code resume 0 -} before any); the gateway's
 *       answer {@code resume <n> <stream>} comes before any data;
 *   <li>data both ways as {@code <seq> <payload>}, numbers from 1 per direction and stream, +1 per
 *       message; {@code ack <n>} both ways; what the client sent stays in its outbox until the
 *       gateway acknowledges it (an {@code ack}, or {@code n} in a resume answer);
 *   <li>same stream in the answer: send again what is above n, with the same numbers; a new
 *       stream: the numbering started over, so what was received resets to 0 and the
 *       unacknowledged messages are renumbered from n + 1.
 * </ul>
 *
 * <p>It does <b>no de-duplication</b>: every data message is handed to the app checks as it
 * came, so a sequence number that is not exactly last + 1 is counted ({@code duplicated} when it
 * is not above the last one, {@code lost} by the size of the gap) and its payload checked too.
 *
 * <p>The app on top: numbered messages {@code m <user>:<id>: <padding>}, one outstanding at a time,
 * each echoed by the session's handler; the handler's own frames are its hello (first data message
 * of every stream) and its listing feed (its own {@code seq}, +1 per update within a handler). What
 * happens around a new stream is told apart by the hello that opens it: the same session key with a
 * higher connection number is a restarted gateway (the docs promise only at-least-once for
 * messages in flight at the crash: those effects are counted apart, {@code crash_*}); another key
 * means the session ended under the user (its container died) and a new one started.
 */
final class ResumeClient {

    static final String PROTOCOL = "berth.resume.v1";

    private static final Pattern RESUME = Pattern.compile("resume (\\d{1,18}) (\\S+)");
    private static final Pattern ACK = Pattern.compile("ack (\\d{1,18})");
    private static final Pattern DATA = Pattern.compile("(\\d{1,18}) ", Pattern.DOTALL);
    private static final Pattern ECHO = Pattern.compile("m (\\d+):(\\d+): .*", Pattern.DOTALL);
    private static final Pattern HELLO_SESSION = Pattern.compile("\"session\":\"([^\"]*)\"");
    private static final Pattern HELLO_CONNECTION = Pattern.compile("\"connection\":(\\d+)");
    private static final Pattern LISTING_SEQ = Pattern.compile("\"seq\":(\\d+)");

    /** An unacknowledged message: its number changes when a new stream renumbers it. */
    private static final class Out {
        long seq;
        final String payload;

        Out(long seq, String payload) {
            this.seq = seq;
            this.payload = payload;
        }
    }

    /** What the soak asks of a user; from -D properties (SoakSimulation). */
    record Plan(
            int exchanges,
            long exchangeEveryMs,
            int messageBytes,
            double reconnectChance,
            double handoverChance,
            double midflightChance,
            long echoTimeoutMs,
            long giveUpAfterMs,
            long deadlineMs) {}

    final long user;
    final Plan plan;

    // The wire.
    private String stream = "-";
    private long lastReceived;
    private long ackSent;
    private long gatewayAcked;
    private long nextSeq = 1;
    private final ArrayDeque<Out> outbox = new ArrayDeque<>();
    private final ArrayDeque<String> resend = new ArrayDeque<>();
    private boolean socketOpen; // a websocket is open (handshake done)
    private boolean resumed; // ... and its resume answer came: data may flow
    private boolean counted; // counted in USERS_CONNECTED

    // Connection attempts.
    private int attempt;
    private long firstFailureAt;
    private long retryAt;
    private boolean everConnected;
    private boolean dropPending; // a drop not yet explained by a new stream
    private boolean voluntary; // the user closed (1001) or handed over itself
    private boolean awaitingHello; // a new stream on a session we had: its hello tells why

    // The app.
    private long appId;
    private long outstanding; // app id awaiting its echo, 0 for none
    private long outstandingSentAt;
    private int outstandingEpoch;
    private long echoDeadline;
    private long nextSendAt;
    private final Map<Long, Integer> echoedInEpoch = new HashMap<>();
    private final Set<Long> abandoned = new HashSet<>();
    private int streamEpoch; // +1 for every new stream after the first of a session
    private String sessionKey;
    private long connectionNo;
    private long lastListing = -1;
    private int listingEpoch;
    private int exchanges;
    private boolean departing;
    private boolean done;

    ResumeClient(long user, Plan plan) {
        this.user = user;
        this.plan = plan;
    }

    // ---- state for the scenario

    boolean finished() {
        return done;
    }

    boolean socketOpen() {
        return socketOpen;
    }

    boolean ready() {
        return socketOpen && resumed;
    }

    boolean everConnected() {
        return everConnected;
    }

    long lastReceived() {
        return lastReceived;
    }

    boolean echoOutstanding() {
        return outstanding != 0;
    }

    long echoDeadline() {
        return echoDeadline;
    }

    /**
     * The next step: connect, send, await (an echo still due), leave (close 1001 and come back),
     * handover (a second websocket), depart (close 1000), giveup, or end.
     */
    String nextStep(long now) {
        if (done) {
            return "end";
        }
        if (now > plan.deadlineMs()) {
            return "giveup";
        }
        if (!ready()) {
            if (firstFailureAt > 0 && now - firstFailureAt > plan.giveUpAfterMs()) {
                return "giveup";
            }
            return "connect";
        }
        if (outstanding != 0) {
            if (now < echoDeadline) {
                return "await";
            }
            echoTimedOut(now);
        }
        if (departing || exchanges >= plan.exchanges()) {
            departing = true;
            return "depart";
        }
        double r = ThreadLocalRandom.current().nextDouble();
        if (r < plan.reconnectChance()) {
            return "leave";
        }
        if (r < plan.reconnectChance() + plan.handoverChance()) {
            return "handover";
        }
        return "send";
    }

    /** Whether a voluntary reconnect or handover should leave a message unanswered on the old connection. */
    boolean midflight() {
        boolean yes = ThreadLocalRandom.current().nextDouble() < plan.midflightChance();
        if (yes) {
            SoakStats.inc(MIDFLIGHT);
        }
        return yes;
    }

    /** Milliseconds to wait before the next connection attempt (0 for the first after a drop). */
    long connectDelay(long now) {
        return Math.max(0, retryAt - now);
    }

    /** Milliseconds to wait before the next message (one every exchangeEvery). */
    long sendDelay(long now) {
        return Math.max(0, nextSendAt - now);
    }

    // ---- connections

    /** A handshake succeeded; {@code reconnect}: not the user's first connection nor a handover. */
    void connected(boolean reconnect) {
        socketOpen = true;
        resumed = false;
        SoakStats.inc(CONNECTS);
        if (reconnect) {
            SoakStats.inc(RECONNECTS);
        }
    }

    /** A handshake failed; {@code error} is Gatling's message (HTTP status or I/O error). */
    void connectFailed(long now, String error) {
        socketOpen = false;
        resumed = false;
        SoakStats.inc(CONNECT_FAILURES);
        long backoff = Math.min(5_000, 250L << Math.min(attempt, 5));
        String e = error == null ? "" : error;
        if (e.contains("503")) {
            SoakStats.inc(REFUSED_503);
            backoff = 5_000; // the gateway's Retry-After
        } else if (e.toLowerCase().contains("refused")) {
            SoakStats.inc(CONNECT_REFUSED);
        }
        attempt++;
        if (firstFailureAt == 0) {
            firstFailureAt = now;
        }
        long jittered =
                Math.round(backoff * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        retryAt = now + jittered;
        SoakStats.event(user, "connect_failed", "attempt " + attempt + " retry in " + jittered + " ms: " + e);
    }

    /** The first message on the new connection. */
    String resumeMessage() {
        ackSent = lastReceived; // a resume counts as an acknowledgement of r
        return "resume " + lastReceived + " " + stream;
    }

    /** The resume answer did not come (the socket is still open): a protocol failure. */
    void resumeTimedOut() {
        ko("resume_timeout", "no resume answer within the timeout on stream " + stream);
    }

    /**
     * The gateway's first message on the connection. Returns false when it is not a resume answer
     * (then the connection is useless: the caller closes it).
     */
    boolean resumeAnswer(String text, long now) {
        Matcher m = RESUME.matcher(text);
        if (!m.matches()) {
            protocolError("expected 'resume <n> <stream>' first, got: " + clip(text));
            return false;
        }
        long n = Long.parseLong(m.group(1));
        String answered = m.group(2);
        resend.clear();
        if (answered.equals(stream)) {
            SoakStats.inc(RESUMES_SAME_STREAM);
            if (n >= nextSeq) {
                protocolError("resume " + n + " on stream " + stream + " but only " + (nextSeq - 1) + " were sent");
            }
            acknowledged(n);
            for (Out out : outbox) {
                resend.add(out.seq + " " + out.payload);
            }
            if (dropPending && !voluntary) {
                SoakStats.inc(DROPS_UNEXPLAINED);
                ko(
                        "drop_unexplained",
                        "connection dropped but the same stream " + stream + " resumed (no restart, session kept)");
            }
            dropPending = false;
        } else {
            boolean first = stream.equals("-");
            if (!first) {
                streamEpoch++;
                SoakStats.inc(NEW_STREAMS);
                awaitingHello = true;
                SoakStats.event(
                        user,
                        "new_stream",
                        stream + " -> " + answered + " (n=" + n + ", had received " + lastReceived + ", "
                                + outbox.size() + " unacknowledged)");
            }
            stream = answered;
            lastReceived = 0;
            ackSent = 0;
            gatewayAcked = n;
            long seq = n;
            for (Out out : outbox) {
                out.seq = ++seq;
                resend.add(out.seq + " " + out.payload);
                SoakStats.inc(RENUMBERED);
            }
            nextSeq = seq + 1;
            dropPending = false;
        }
        SoakStats.add(RESENT, resend.size());
        resumed = true;
        everConnected = true;
        voluntary = false;
        attempt = 0;
        firstFailureAt = 0;
        if (!counted) {
            counted = true;
            SoakStats.USERS_CONNECTED.incrementAndGet();
        }
        if (outstanding != 0) {
            echoDeadline = now + plan.echoTimeoutMs(); // the clock restarts on a working connection
        }
        return true;
    }

    boolean hasResend() {
        return !resend.isEmpty();
    }

    String nextResend() {
        return resend.poll();
    }

    /** The connection closed under the user; {@code why} is what Gatling knows (often nothing). */
    void dropped(String why) {
        boolean wasReady = resumed;
        socketOpen = false;
        resumed = false;
        uncount();
        if (voluntary) {
            return; // the user closed it (or it is the older side of its own handover)
        }
        SoakStats.inc(DROPS);
        dropPending = true;
        retryAt = 0;
        SoakStats.event(
                user,
                "drop",
                (wasReady ? "" : "(before resume) ") + (why == null || why.isEmpty() ? "closed" : why) + "; stream "
                        + stream + " last " + lastReceived + (outstanding != 0 ? " outstanding " + outstanding : ""));
    }

    /** The user closes with 1001 to come back at once (or opens a second websocket: handover). */
    void leaving(boolean handover) {
        voluntary = true;
        socketOpen = false;
        resumed = false;
        uncount();
        retryAt = 0;
        SoakStats.inc(handover ? HANDOVERS : VOLUNTARY_RECONNECTS);
    }

    void handoverLeftOpen() {
        SoakStats.inc(HANDOVER_OLD_OPEN);
        ko("handover_old_open", "the older websocket was still open 5 s after the handover");
    }

    /** close 1000 was acknowledged: the session is over. */
    void departed() {
        socketOpen = false;
        resumed = false;
        uncount();
        done = true;
        SoakStats.inc(SESSIONS_ENDED);
        SoakStats.inc(USERS_DONE);
    }

    void giveUp(long now) {
        ko(
                "gave_up",
                now > plan.deadlineMs()
                        ? "past the user's deadline"
                        : "no connection for " + plan.giveUpAfterMs() + " ms");
        SoakStats.inc(USERS_GAVE_UP);
        socketOpen = false;
        resumed = false;
        uncount();
        done = true;
    }

    void finish() {
        uncount();
        done = true;
    }

    private void uncount() {
        if (counted) {
            counted = false;
            SoakStats.USERS_CONNECTED.decrementAndGet();
        }
    }

    // ---- sending

    /** An ack to send first, or null when everything received is acknowledged. */
    String pendingAck() {
        if (lastReceived > ackSent) {
            ackSent = lastReceived;
            return "ack " + lastReceived;
        }
        return null;
    }

    /** An ack of what was received, sent only to have something to wait on (valid at any time). */
    String ackForAwait() {
        ackSent = Math.max(ackSent, lastReceived);
        return "ack " + lastReceived;
    }

    /** Numbers the next app message and returns the frame. */
    String nextMessage(long now) {
        appId++;
        exchanges++;
        String head = "m " + user + ":" + appId + ": ";
        String payload = head + "x".repeat(Math.max(0, plan.messageBytes() - head.length()));
        Out out = new Out(nextSeq++, payload);
        outbox.add(out);
        outstanding = appId;
        outstandingSentAt = now;
        outstandingEpoch = streamEpoch;
        echoDeadline = now + plan.echoTimeoutMs();
        nextSendAt = now + plan.exchangeEveryMs();
        SoakStats.inc(MESSAGES_SENT);
        return out.seq + " " + payload;
    }

    private void echoTimedOut(long now) {
        abandoned.add(outstanding);
        if (outstandingEpoch != streamEpoch) {
            SoakStats.inc(CRASH_APP_LOST);
            SoakStats.event(
                    user,
                    "crash_app_lost",
                    "message " + outstanding + " sent on an earlier stream: no echo " + (now - outstandingSentAt)
                            + " ms later");
        } else {
            SoakStats.inc(APP_LOST);
            ko(
                    "app_lost",
                    "message " + outstanding + ": no echo within " + plan.echoTimeoutMs() + " ms (stream " + stream
                            + ")");
        }
        outstanding = 0;
    }

    // ---- receiving

    /** Every message that arrived, in order; {@code arrivedAt} is its arrival (epoch ms). */
    void received(String text, long arrivedAt) {
        if (!resumed) {
            protocolError("a message before the resume answer: " + clip(text));
            return;
        }
        if (text.startsWith("ack ")) {
            Matcher m = ACK.matcher(text);
            if (!m.matches()) {
                protocolError("bad ack: " + clip(text));
                return;
            }
            SoakStats.inc(ACKS_RECEIVED);
            long n = Long.parseLong(m.group(1));
            if (n >= nextSeq) {
                protocolError("ack " + n + " on stream " + stream + " but only " + (nextSeq - 1) + " were sent");
            }
            if (n < gatewayAcked) {
                protocolError("ack " + n + " after ack " + gatewayAcked + " on stream " + stream);
            }
            acknowledged(n);
            return;
        }
        Matcher m = DATA.matcher(text);
        if (!m.lookingAt()) {
            protocolError("neither data, ack nor resume: " + clip(text));
            return;
        }
        long seq = Long.parseLong(m.group(1));
        String payload = text.substring(m.end());
        SoakStats.inc(FRAMES_RECEIVED);
        if (seq <= lastReceived) {
            SoakStats.inc(DUPLICATED);
            SoakStats.event(
                    user,
                    "duplicated",
                    "stream " + stream + ": seq " + seq + " after " + lastReceived + ": " + clip(payload));
        } else {
            if (seq > lastReceived + 1) {
                SoakStats.add(LOST, seq - lastReceived - 1);
                SoakStats.event(
                        user,
                        "lost",
                        "stream " + stream + ": seq " + seq + " after " + lastReceived + " (" + (seq - lastReceived - 1)
                                + " missing)");
            }
            lastReceived = seq;
        }
        deliver(payload, arrivedAt); // no de-duplication: the app sees what came
    }

    private void acknowledged(long n) {
        gatewayAcked = Math.max(gatewayAcked, n);
        while (!outbox.isEmpty() && outbox.peek().seq <= n) {
            outbox.poll();
        }
    }

    private void deliver(String payload, long arrivedAt) {
        if (payload.startsWith("m ")) {
            echo(payload, arrivedAt);
        } else if (payload.startsWith("{\"type\":\"listing\"")) {
            listing(payload);
        } else if (payload.startsWith("{\"type\":\"hello\"")) {
            hello(payload);
        } else {
            protocolError("unexpected data from the session: " + clip(payload));
        }
    }

    private void echo(String payload, long arrivedAt) {
        Matcher m = ECHO.matcher(payload);
        if (!m.matches() || Long.parseLong(m.group(1)) != user) {
            ko("foreign_echo", "an echo that is not this user's: " + clip(payload));
            return;
        }
        long id = Long.parseLong(m.group(2));
        Integer echoedIn = echoedInEpoch.get(id);
        if (echoedIn != null) {
            if (echoedIn != streamEpoch) {
                SoakStats.inc(CRASH_APP_REPEAT);
                SoakStats.event(user, "crash_app_repeat", "message " + id + " echoed again on a new stream " + stream);
            } else {
                SoakStats.inc(APP_REPEAT);
                ko("app_repeat", "message " + id + " echoed twice on stream " + stream);
            }
            return;
        }
        echoedInEpoch.put(id, streamEpoch);
        if (id == outstanding) {
            SoakStats.inc(ECHOES);
            SoakStats.echoMillis(Math.max(0, arrivedAt - outstandingSentAt));
            outstanding = 0;
        } else if (abandoned.remove(id)) {
            SoakStats.inc(LATE_ECHOES);
            SoakStats.event(user, "late_echo", "message " + id + " echoed after it was given up");
        } else {
            ko("unexpected_echo", "echo of message " + id + " while " + outstanding + " is outstanding");
        }
    }

    private void hello(String payload) {
        Matcher s = HELLO_SESSION.matcher(payload);
        Matcher c = HELLO_CONNECTION.matcher(payload);
        if (!s.find() || !c.find()) {
            protocolError("hello without session or connection: " + clip(payload));
            return;
        }
        String key = s.group(1);
        long connection = Long.parseLong(c.group(1));
        if (sessionKey == null) {
            SoakStats.inc(SESSIONS_STARTED);
        } else if (key.equals(sessionKey)) {
            if (connection > connectionNo && awaitingHello) {
                SoakStats.inc(RESTARTS_SEEN);
                SoakStats.event(
                        user, "restart_seen", "session " + key + " connection " + connectionNo + " -> " + connection);
            } else {
                protocolError("hello again on session " + key + " connection " + connection + " (had " + connectionNo
                        + (awaitingHello ? "" : ", no new stream") + ")");
            }
        } else {
            SoakStats.inc(SESSIONS_LOST);
            SoakStats.inc(SESSIONS_STARTED);
            SoakStats.event(user, "session_lost", "session " + sessionKey + " gone, new session " + key);
            lastListing = -1;
        }
        awaitingHello = false;
        sessionKey = key;
        connectionNo = connection;
    }

    private void listing(String payload) {
        SoakStats.inc(LISTINGS);
        Matcher m = LISTING_SEQ.matcher(payload);
        if (!m.find()) {
            protocolError("listing without seq: " + clip(payload));
            return;
        }
        long seq = Long.parseLong(m.group(1));
        boolean acrossStreams = listingEpoch != streamEpoch;
        if (lastListing >= 0) {
            if (seq <= lastListing) {
                if (acrossStreams) {
                    SoakStats.add(CRASH_LISTING_REPEAT, lastListing - seq + 1);
                    SoakStats.event(
                            user,
                            "crash_listing_repeat",
                            "listing " + seq + " after " + lastListing + " across a new stream");
                } else {
                    SoakStats.add(LISTING_REPEAT, lastListing - seq + 1);
                    ko("listing_repeat", "listing " + seq + " after " + lastListing + " on stream " + stream);
                }
            } else if (seq > lastListing + 1) {
                if (acrossStreams) {
                    SoakStats.add(CRASH_LISTING_GAP, seq - lastListing - 1);
                    SoakStats.event(
                            user,
                            "crash_listing_gap",
                            "listing " + seq + " after " + lastListing + " across a new stream ("
                                    + (seq - lastListing - 1) + " missing)");
                } else {
                    SoakStats.add(LISTING_GAP, seq - lastListing - 1);
                    ko("listing_gap", "listing " + seq + " after " + lastListing + " on stream " + stream);
                }
            }
        }
        lastListing = Math.max(lastListing, seq);
        listingEpoch = streamEpoch;
    }

    // ---- failures

    void protocolError(String detail) {
        SoakStats.inc(PROTOCOL_ERRORS);
        ko("protocol", detail);
    }

    void ko(String kind, String detail) {
        SoakStats.inc(KO);
        SoakStats.event(user, kind, detail);
    }

    private static String clip(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + "...";
    }
}
