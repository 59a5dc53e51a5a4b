package dev.berth.gateway.pipe;

import dev.berth.gateway.failure.Failure;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A client that speaks {@value AcceptedClient#RESUME_SUBPROTOCOL} (docs/sessions.md): every data
 * message carries its sequence number, each side acknowledges what it received, and a reconnecting
 * client says where it stopped, so nothing is lost or duplicated when a connection drops
 * mid-stream. What outlives the connection is kept in the session's {@link ResumeLedger}.
 *
 * <p>Client messages are collected whole before they go to the backend (a browser sends each
 * message as one frame anyway): a message cut by a dropped connection is sent again in full by
 * the client, so the backend must never have seen part of it.
 */
final class ResumeClient extends ClientLink {

    private static final long ACK_DELAY_MS = 50;
    private static final int ACK_EVERY = 32;

    private final Vertx vertx;
    private final ResumeLedger ledger;
    private boolean resumed;
    private Buffer message;
    private WebSocketFrameType messageType;
    private long ackTimer = -1;
    private int unacknowledged;

    ResumeClient(
            Vertx vertx,
            AcceptedClient client,
            SessionPipe pipe,
            ResumeLedger ledger,
            Duration keepalive,
            int maxMessageBytes) {
        super(vertx, client, pipe, keepalive, maxMessageBytes);
        this.vertx = vertx;
        this.ledger = ledger;
    }

    @Override
    boolean ready() {
        return resumed && open(); // nothing is written before the client said where it stopped
    }

    @Override
    boolean passesFramesThrough() {
        return false; // each message goes out with its number in front
    }

    @Override
    void onData(WebSocketFrame frame, int pendingUtf8) {
        if (!frame.isContinuation()) {
            message = Buffer.buffer();
            messageType = frame.type();
        }
        message.appendBuffer(frame.binaryData()); // fragmentation and size were checked before
        if (frame.isFinal()) {
            Buffer whole = message;
            message = null;
            onMessage(messageType, whole);
        }
    }

    private void onMessage(WebSocketFrameType type, Buffer payload) {
        int space = indexOfSpace(payload);
        String head = space < 0 ? null : payload.getString(0, space, "US-ASCII");
        if (!resumed) {
            String[] resume = type == WebSocketFrameType.TEXT && payload.length() < 80
                    ? payload.toString(StandardCharsets.US_ASCII).split(" ")
                    : new String[0];
            if (resume.length == 3 && resume[0].equals("resume") && isNumber(resume[1])) {
                resumed = true;
                resumeFrom(Long.parseLong(resume[1]), resume[2]);
            } else {
                pipe.clientFailed(this, Failure.RESUME_PROTOCOL, "the first message must be 'resume <seq> <stream>'");
            }
        } else if (type == WebSocketFrameType.TEXT
                && "ack".equals(head)
                && isNumber(payload.getString(space + 1, payload.length()))) {
            acknowledged(Long.parseLong(payload.getString(space + 1, payload.length())));
        } else if (head != null && isNumber(head)) {
            Buffer data = payload.getBuffer(space + 1, payload.length());
            fromClient(
                    Long.parseLong(head),
                    type == WebSocketFrameType.TEXT
                            ? WebSocketFrame.textFrame(data.toString(StandardCharsets.UTF_8), true)
                            : WebSocketFrame.binaryFrame(data, true));
        } else {
            pipe.clientFailed(
                    this,
                    Failure.RESUME_PROTOCOL,
                    "a message that is neither '<seq> <data>', 'ack <seq>' nor 'resume'");
        }
    }

    private void resumeFrom(long lastReceived, String stream) {
        if (pipe.attached() != this) {
            return;
        }
        if (!ledger.resumedFrom(lastReceived, stream)) {
            pipe.clientFailed(
                    this, Failure.RESUME_PROTOCOL, "resume " + lastReceived + ": past the last message written");
            return;
        }
        pipe.resumed(ledger.replayed());
        sendText(ledger.resumeAnswer());
        pipe.clientCanTakeMore(this);
    }

    private void acknowledged(long seq) {
        if (pipe.attached() != this) {
            return;
        }
        if (!ledger.acknowledged(seq)) {
            pipe.clientFailed(this, Failure.RESUME_PROTOCOL, "ack " + seq + ": past the last message written");
            return;
        }
        pipe.clientAcknowledged();
    }

    private void fromClient(long seq, WebSocketFrame message) {
        switch (ledger.arrived(seq)) {
            case AGAIN -> {} // sent again after a reconnect, but the backend had it already
            case OUT_OF_ORDER ->
                pipe.clientFailed(this, Failure.RESUME_PROTOCOL, "message " + seq + " after " + ledger.clientSeq());
            case NEXT -> {
                pipe.toBackend(this, message, 0);
                received();
            }
        }
    }

    /** Tells the client, soon and in one message, up to where its messages reached the backend. */
    private void received() {
        if (++unacknowledged >= ACK_EVERY) {
            sendAck();
        } else if (ackTimer < 0) {
            ackTimer = vertx.setTimer(ACK_DELAY_MS, id -> {
                ackTimer = -1;
                sendAck();
            });
        }
    }

    private void sendAck() {
        if (ackTimer >= 0) {
            vertx.cancelTimer(ackTimer);
            ackTimer = -1;
        }
        unacknowledged = 0;
        if (!closing()) {
            sendText("ack " + ledger.clientSeq());
        }
    }

    /**
     * Acknowledges what reached the backend before the close frame, so a client told to reconnect
     * (a restart, a handover) does not send it again, to a gateway that could not tell it had passed.
     */
    @Override
    void close(int code, String reason) {
        if (unacknowledged > 0) {
            sendAck();
        }
        super.close(code, reason);
    }

    @Override
    void write(Outbox.Entry entry) {
        entry.original = null; // the client gets a copy: the original may have to be written again
        byte[] prefix = (entry.seq + " ").getBytes(StandardCharsets.US_ASCII);
        if (entry.singleFrame()) {
            Buffer payload = Buffer.buffer(prefix).appendBuffer(entry.retained);
            send(
                    entry.messageType == WebSocketFrameType.TEXT
                            ? WebSocketFrame.textFrame(payload.toString(StandardCharsets.UTF_8), true)
                            : WebSocketFrame.binaryFrame(payload, true));
            return;
        }
        if (entry.first) {
            send(
                    entry.messageType == WebSocketFrameType.TEXT
                            ? WebSocketFrame.textFrame(new String(prefix, StandardCharsets.US_ASCII), false)
                            : WebSocketFrame.binaryFrame(Buffer.buffer(prefix), false));
        }
        send(WebSocketFrame.continuationFrame(entry.payloadCopy(), entry.last));
    }

    private static int indexOfSpace(Buffer payload) {
        int limit = Math.min(payload.length(), 24);
        for (int i = 0; i < limit; i++) {
            if (payload.getByte(i) == ' ') {
                return i;
            }
        }
        return -1;
    }

    private static boolean isNumber(String text) {
        if (text.isEmpty() || text.length() > 18) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
