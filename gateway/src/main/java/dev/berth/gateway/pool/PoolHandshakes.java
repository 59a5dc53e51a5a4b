package dev.berth.gateway.pool;

import dev.berth.gateway.launcher.SessionUser;
import dev.berth.gateway.loops.EventLoops;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;

/**
 * What the pool says to a pooled handler over its websocket, and hears back: the claim of an idle
 * entry for a session, and the greeting an adopted entry may send unasked. Each runs on the loop
 * the websocket lives on (as the pipe that takes it over does), so its handlers, writes, pause and
 * resume never race the socket's own events on another thread; and the pool's handlers come off
 * in the same dispatch that reads the answer, so none of them reaches a frame meant for the
 * session's pipe. Both complete on the caller's loop.
 */
final class PoolHandshakes {

    private static final long CLAIM_TIMEOUT_MS = 2000;
    /** How long an adopted entry is given to greet unasked, which only a handler claimed before does. */
    private static final long GREETING_WAIT_MS = 1000;

    /** A dialled pool entry and the session its hello named unasked, or null when it said nothing. */
    record Greeting(WebSocket socket, String session) {}

    /** The handler greeted the claim with the hello of another session: it was claimed before, for that one. */
    static final class AlreadyClaimed extends RuntimeException {
        final String session;

        AlreadyClaimed(String session) {
            super("it serves session " + session + " already", null, false, false);
            this.session = session;
        }
    }

    /** The handler refused the claim (it was claimed for another session first). */
    static final class ClaimRefused extends RuntimeException {
        ClaimRefused(String message) {
            super(message, null, false, false);
        }
    }

    private final Vertx vertx;

    PoolHandshakes(Vertx vertx) {
        this.vertx = vertx;
    }

    /**
     * Claims the entry's handler for session {@code key}, serving {@code user} (or no one): its answer is its hello, passed on to the
     * session's pipe. Fails with {@link AlreadyClaimed} or {@link ClaimRefused} when the entry is
     * someone else's, otherwise when it closes or does not answer in time.
     */
    Future<WarmPool.Claimed> claim(PoolEntry entry, String key, SessionUser user) {
        return EventLoops.call(entry.loop(), () -> claimOnItsLoop(entry, key, user));
    }

    private Future<WarmPool.Claimed> claimOnItsLoop(PoolEntry entry, String key, SessionUser user) {
        WebSocket socket = entry.socket();
        // Completed on this loop, by the socket's events or the timer.
        Promise<WarmPool.Claimed> answered = Promise.promise();
        try {
            socket.closeHandler(v -> answered.tryFail(
                    socket.closeStatusCode() != null && socket.closeStatusCode() == 1008
                            ? new ClaimRefused("refused: 1008 " + socket.closeReason())
                            : new IllegalStateException(
                                    "closed: " + socket.closeStatusCode() + " " + socket.closeReason())));
            socket.frameHandler(frame -> {
                if (frame.isText() || frame.isBinary()) {
                    socket.pause(); // the rest waits for the session's pipe
                    stopWatching(socket); // at once: no later frame reaches this handler
                    String greeted = sessionOf(frame);
                    if (greeted != null && !greeted.equals(key)) {
                        answered.tryFail(new AlreadyClaimed(greeted)); // its greeting on connect, before our claim
                    } else {
                        answered.tryComplete(new WarmPool.Claimed(entry.backend(), socket, entry.loop(), frame));
                    }
                }
            });
        } catch (IllegalStateException closedOnItsLoop) {
            return Future.failedFuture("its websocket closed while it waited in the pool");
        }
        long timer = vertx.setTimer(
                CLAIM_TIMEOUT_MS, id -> answered.tryFail("no answer to the claim within " + CLAIM_TIMEOUT_MS + "ms"));
        JsonObject claim = new JsonObject().put("cmd", "claim").put("session", key);
        if (user != null) {
            claim.put("user", user.name());
            if (user.email() != null) {
                claim.put("email", user.email());
            }
        }
        socket.writeTextMessage(claim.encode());
        socket.resume();
        return answered.future().onComplete(done -> {
            vertx.cancelTimer(timer);
            stopWatching(socket); // from now on the session (or no one) watches it
        });
    }

    /**
     * What an adopted entry, dialled from {@code loop}, says unasked within {@link #GREETING_WAIT_MS};
     * fails if it closes, or says something else.
     */
    Future<Greeting> greeting(WebSocket socket, Context loop) {
        return EventLoops.call(loop, () -> greetingOnItsLoop(socket));
    }

    private Future<Greeting> greetingOnItsLoop(WebSocket socket) {
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

    /** Takes the pool's handlers off an entry's websocket, which may have closed meanwhile on its own loop. */
    static void stopWatching(WebSocket socket) {
        try {
            socket.closeHandler(null);
            socket.frameHandler(null);
        } catch (IllegalStateException closedMeanwhile) {
            // closed: no handler runs again
        }
    }
}
