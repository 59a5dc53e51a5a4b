package dev.berth.gateway.pipe;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * What the resume protocol (docs/sessions.md) keeps of a session across its client connections, on
 * the pipe's loop: the stream id, up to which client message the backend has had, and, through the
 * {@link Outbox} that numbers the backend's messages and holds them until then, up to which one
 * the client acknowledged. A {@link ResumeClient} speaks the protocol on one connection; this is
 * what outlives it, for the next.
 */
final class ResumeLedger {

    /** Where a numbered client message stands against those the backend had. */
    enum Arrival {
        /** The one after the last the backend had: it goes on to the backend. */
        NEXT,
        /** Sent again after a reconnect, but the backend had it already. */
        AGAIN,
        /** Neither: the client broke the protocol. */
        OUT_OF_ORDER
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String stream;
    private final Outbox outbox;
    private long clientSeq;

    /** @param outbox the backend's messages, numbered, held for the client until it acknowledges them */
    ResumeLedger(Outbox outbox) {
        this.outbox = outbox;
        byte[] id = new byte[6];
        RANDOM.nextBytes(id);
        this.stream = HexFormat.of().formatHex(id);
    }

    /** The last client message the backend had. */
    long clientSeq() {
        return clientSeq;
    }

    /** Where client message {@code seq} stands; a {@link Arrival#NEXT} one counts as the backend's from now on. */
    Arrival arrived(long seq) {
        if (seq <= clientSeq) {
            return Arrival.AGAIN;
        }
        if (seq != clientSeq + 1) {
            return Arrival.OUT_OF_ORDER;
        }
        clientSeq = seq;
        return Arrival.NEXT;
    }

    /**
     * A client reconnects having received up to {@code lastReceived} of stream {@code clientStream}:
     * of this stream, what it has is dropped; of another (an earlier gateway's view of the session),
     * nothing is. False, dropping nothing, when it claims more than was ever written.
     */
    boolean resumedFrom(long lastReceived, String clientStream) {
        return !clientStream.equals(stream) || outbox.acknowledge(lastReceived);
    }

    /** The backend messages a client that just resumed gets again: written before, and not acknowledged. */
    long replayed() {
        return outbox.messagesToWriteAgain();
    }

    /** The answer to a client's resume: up to where its messages reached the backend, and the stream. */
    String resumeAnswer() {
        return "resume " + clientSeq + " " + stream;
    }

    /** The client has the backend's messages up to {@code seq}; false if it cannot (see {@link Outbox#acknowledge}). */
    boolean acknowledged(long seq) {
        return outbox.acknowledge(seq);
    }
}
