package dev.berth.handler;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters for the whole process, i.e. for the session: they survive reconnects, which is how a
 * reconnecting client can tell it got the same container back.
 */
public final class SessionState {

    private final long startedAt = System.currentTimeMillis();
    private volatile String sessionKey;
    /** The signed-in user the session serves (BERTH_USER, or the claim's user), or null. */
    private volatile String user;

    private final AtomicLong framesReceived = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong listingSeq = new AtomicLong();
    private final AtomicLong pingsReceived = new AtomicLong();
    private final AtomicInteger feedPerSecond = new AtomicInteger(-1);
    private volatile Short lastCloseCode;
    private volatile String lastCloseReason;

    public SessionState() {}

    public SessionState(String sessionKey) {
        this.sessionKey = sessionKey;
    }

    /** The state of a handler started with {@code config}: its session and user, if it has them yet. */
    public static SessionState of(HandlerConfig config) {
        SessionState state = new SessionState(config.session());
        state.user = config.user();
        return state;
    }

    /** The session this handler serves; null for a pooled handler not claimed yet. */
    public String sessionKey() {
        return sessionKey;
    }

    /** Claims a pooled handler for {@code key}; true if it now serves that key (also if it already did). */
    public synchronized boolean claim(String key) {
        if (sessionKey == null) {
            sessionKey = key;
        }
        return sessionKey.equals(key);
    }

    /** The signed-in user the session serves, or null when the gateway signs no one in. */
    public String user() {
        return user;
    }

    /** The gateway said whom the session serves (its environment, or a pooled handler's claim). */
    public void serves(String signedIn) {
        user = signedIn;
    }

    /** Epoch millis when this process's state was created. */
    public long startedAt() {
        return startedAt;
    }

    /** Counts one echoed data frame (text, binary or continuation) carrying {@code payloadBytes}. */
    public void frameReceived(int payloadBytes) {
        framesReceived.incrementAndGet();
        bytesReceived.addAndGet(payloadBytes);
    }

    public long framesReceived() {
        return framesReceived.get();
    }

    public long bytesReceived() {
        return bytesReceived.get();
    }

    /**
     * The feed rate the session's client last asked for, or {@code initial} if it never asked: a
     * gateway that reconnects (after its own restart) finds the feed as the user left it.
     */
    public int feedPerSecondOr(int initial) {
        int asked = feedPerSecond.get();
        return asked < 0 ? initial : asked;
    }

    public void feedRequested(int perSecond) {
        feedPerSecond.set(perSecond);
    }

    public void pingReceived() {
        pingsReceived.incrementAndGet();
    }

    /** Ping frames that reached the handler (a proxy that answers pings itself forwards none). */
    public long pingsReceived() {
        return pingsReceived.get();
    }

    /** Records a new websocket and returns its number: 1 for the first this process saw. */
    public long connectionOpened() {
        open.incrementAndGet();
        return connections.incrementAndGet();
    }

    /** Records a websocket closing and returns how many remain open. */
    public int connectionClosed() {
        return open.decrementAndGet();
    }

    /** Websockets seen since start. */
    public long connections() {
        return connections.get();
    }

    /** Websockets open now. */
    public int openConnections() {
        return open.get();
    }

    /** The next listing event sequence number, increasing across all connections of the process. */
    public long nextListingSeq() {
        return listingSeq.incrementAndGet();
    }

    /** Remembers how the latest websocket closed, so a reconnecting client can ask. */
    public void lastClose(Short code, String reason) {
        lastCloseCode = code;
        lastCloseReason = reason;
    }

    /** The close code of the latest websocket that closed, or null (none yet, or no close frame). */
    public Short lastCloseCode() {
        return lastCloseCode;
    }

    public String lastCloseReason() {
        return lastCloseReason;
    }
}
