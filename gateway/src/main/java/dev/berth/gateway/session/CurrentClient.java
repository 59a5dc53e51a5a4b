package dev.berth.gateway.session;

import dev.berth.gateway.failure.Failure;
import io.vertx.core.http.ServerWebSocket;

/**
 * Who a session's client is, as the session sees it: how many are on their way, whether one holds
 * its token, the arrival its pipe was last told to attach, until it leaves (events about older ones
 * are stale), and the one whose close frame ended the session. Written and read on the control loop only; the pipe keeps its own link to the socket it
 * writes to, on its loop.
 */
final class CurrentClient {

    private Arrival attached;
    /**
     * The arrival whose close frame ended the session: from then on no returning client may join,
     * though the session hears of the close itself a moment later, through its pipe. Cleared when
     * another connection attached after it, since the session then ignores that close.
     */
    private Arrival endedBy;
    /** Arrivals not yet attached nor gone. */
    private int onItsWay;
    /** Whether a client ever got the session's token: until then, none can come back. */
    private boolean tokenDelivered;
    /** The close its clients were told when the session ended or let go; one accepted after hears the same. */
    private short lastCode = (short) Failure.BACKEND_EXITED.closeCode();

    private String lastReason = Failure.BACKEND_EXITED.publicReason();

    /** Whether {@code socket} is the attached client's: events about any other one are stale. */
    boolean is(ServerWebSocket socket) {
        return attached != null && attached.socket() == socket;
    }

    boolean present() {
        return attached != null;
    }

    ServerWebSocket socket() {
        return attached.socket();
    }

    void arriving() {
        onItsWay++;
    }

    void arrived() {
        onItsWay--;
    }

    boolean onItsWay() {
        return onItsWay > 0;
    }

    void tokenDelivered() {
        tokenDelivered = true;
    }

    boolean holdsToken() {
        return tokenDelivered;
    }

    /** {@code next} is attached now; returns whether an attached client was handed over to it. */
    boolean attach(Arrival next) {
        boolean handover = attached != null;
        if (handover) {
            attached.replaced = true;
        }
        attached = next;
        if (endedBy != null && endedBy != next) {
            endedBy = null; // an older connection's ending close, which this one supersedes
        }
        return handover;
    }

    void detach() {
        attached = null;
    }

    /**
     * {@code arrival}'s client sent a close frame that ends the session. Not judged by the attached
     * client: the previous connection's drop may reach the session only after this one has closed,
     * and this close must count all the same. One that was handed over only echoes its 4001.
     */
    void closedForGood(Arrival arrival) {
        if (!arrival.replaced) {
            endedBy = arrival;
        }
    }

    boolean closedForGood() {
        return endedBy != null;
    }

    /** The session ended or let go, and its clients were told {@code code} and {@code reason}. */
    void told(int code, String reason) {
        lastCode = (short) code;
        lastReason = reason;
    }

    /** A client accepted after the session ended hears what an attached one did. */
    void tellLate(ServerWebSocket socket) {
        socket.close(lastCode, lastReason);
    }
}
