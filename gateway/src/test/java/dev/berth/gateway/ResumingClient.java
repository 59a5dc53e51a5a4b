package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketFrame;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The client side of the resume protocol written from docs/sessions.md alone, and strict: it
 * numbers what it sends, keeps it until acknowledged, says where it stopped on every connection
 * and sends again what the gateway did not get. It keeps no de-duplication of its own: every data
 * message must carry the next number of its stream, and anything else (a number it already has,
 * or one past a gap) is recorded in {@link #violations()}.
 */
public final class ResumingClient implements AutoCloseable {

    public static final String SUBPROTOCOL = "berth.resume.v1";

    private record Sent(long seq, String text) {}

    private final Vertx vertx;
    private final Deque<Sent> unacknowledged = new ArrayDeque<>();
    private final List<String> received = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final List<FrameClient> replaced = new ArrayList<>();
    private String token;
    private String stream = "-";
    private long sentSeq;
    private long lastReceived;
    private int ackEvery = 1;
    private int sinceAck;
    private FrameClient connection;

    public ResumingClient(Vertx vertx) {
        this.vertx = vertx;
    }

    /** Acknowledges every {@code messages} received instead of each one, so more is held unacknowledged. */
    public ResumingClient ackEvery(int messages) {
        this.ackEvery = messages;
        return this;
    }

    /**
     * Connects (again) through {@code port}, resumes, and sends what the gateway did not get. A
     * connection still open is left to the gateway, which replaces it (4001); nothing more is read
     * from it, as a client moving to a new network path would do.
     */
    public ResumingClient connect(int port) throws Exception {
        if (connection != null && !connection.socket().isClosed()) {
            replaced.add(connection);
        } else if (connection != null) {
            readRest(); // everything that arrived before the close counts, its last acknowledgement too
        }
        connection = FrameClient.connect(vertx, port, token, SUBPROTOCOL);
        assertEquals(SUBPROTOCOL, connection.socket().subProtocol(), "the gateway accepted the resume protocol");
        token = connection.sessionToken();
        connection.socket().writeTextMessage("resume " + lastReceived + " " + stream);
        WebSocketFrame first = connection.nextDataFrame();
        if (!first.isText() || !first.textData().startsWith("resume ")) {
            throw new AssertionError(
                    "before the gateway's resume, got: " + (first.isText() ? first.textData() : "binary"));
        }
        String[] answer = first.textData().split(" ");
        long gatewayHas = Long.parseLong(answer[1]);
        if (!answer[2].equals(stream)) { // a new stream: its numbering starts over
            lastReceived = 0;
            stream = answer[2];
            long next = gatewayHas;
            List<Sent> renumbered = new ArrayList<>();
            for (Sent sent : unacknowledged) {
                renumbered.add(new Sent(++next, sent.text));
            }
            unacknowledged.clear();
            unacknowledged.addAll(renumbered);
            sentSeq = next;
        }
        unacknowledged.removeIf(sent -> sent.seq <= gatewayHas);
        for (Sent sent : unacknowledged) {
            connection.socket().writeTextMessage(sent.seq + " " + sent.text);
        }
        sinceAck = 0;
        return this;
    }

    public void send(String text) {
        Sent sent = new Sent(++sentSeq, text);
        unacknowledged.add(sent);
        if (!connection.socket().isClosed()) {
            connection.socket().writeTextMessage(sent.seq + " " + text);
        }
    }

    /**
     * Reads, acknowledging as it goes, until {@code count} received messages start with
     * {@code prefix}; returns false when the connection dropped first.
     */
    public boolean receiveUntil(String prefix, int count) throws Exception {
        long deadline = System.currentTimeMillis() + FrameClient.WAIT_SECONDS * 1000;
        while (received.stream().filter(text -> text.startsWith(prefix)).count() < count) {
            WebSocketFrame frame = connection.pollFrame(100);
            if (frame == null) {
                if (connection.socket().isClosed()) {
                    return false;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError(
                            "only " + received.size() + " messages within " + FrameClient.WAIT_SECONDS + "s");
                }
            } else if (frame.isText()) {
                take(frame.textData());
            }
        }
        return true;
    }

    private void readRest() throws InterruptedException {
        for (WebSocketFrame frame = connection.pollFrame(0); frame != null; frame = connection.pollFrame(0)) {
            if (frame.isText()) {
                take(frame.textData());
            }
        }
    }

    private void take(String text) {
        if (text.startsWith("ack ")) {
            long upTo = Long.parseLong(text.substring(4));
            unacknowledged.removeIf(sent -> sent.seq <= upTo);
            return;
        }
        int space = text.indexOf(' ');
        long seq = Long.parseLong(text.substring(0, space));
        if (seq != lastReceived + 1) {
            violations.add((seq <= lastReceived ? "duplicate: " : "gap: ") + "message " + seq + " after " + lastReceived
                    + " in stream " + stream);
        }
        lastReceived = Math.max(lastReceived, seq);
        received.add(text.substring(space + 1));
        if (++sinceAck >= ackEvery && !connection.socket().isClosed()) {
            sinceAck = 0;
            connection.socket().writeTextMessage("ack " + lastReceived);
        }
    }

    /** Every message received, in order, without its sequence number. */
    public List<String> received() {
        return received;
    }

    /** Every number that was not the next one of its stream: empty when the gateway kept the protocol. */
    public List<String> violations() {
        return violations;
    }

    /** The highest number received in the current stream. */
    public long lastReceived() {
        return lastReceived;
    }

    /** Connections this client moved away from while they were open; the gateway closes each with 4001. */
    public List<FrameClient> replaced() {
        return replaced;
    }

    public String token() {
        return token;
    }

    public FrameClient connection() {
        return connection;
    }

    @Override
    public void close() throws Exception {
        for (FrameClient old : replaced) {
            old.close();
        }
        if (connection != null) {
            connection.close();
        }
    }
}
