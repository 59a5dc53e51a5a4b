package dev.berth.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ActionBuilder;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/**
 * What every simulation does with a Berth session, in Gatling's Java DSL. The request names
 * ("connect", "hello", "echo", "state", "close", ...) are the rows of the report's statistics
 * table and the names the assertions use. A check is timed from the send (or the handshake) to
 * the matching reply; the send itself gets a row of its own ("send message", "ask state") that
 * only records that the frame went out (0 ms).
 */
final class BerthSession {

    /** How long a reply may take before the check is a KO (a stuck session, not a slow one). */
    static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);

    /** The gateway answers the handshake only once the session's container is ready: allow a cold start under load. */
    static final Duration HELLO_TIMEOUT = Duration.ofSeconds(30);

    /** Gatling's name for a user's websocket when none is given. */
    static final String DEFAULT_WS = "gatling.http.webSocket";

    private BerthSession() {}

    static HttpProtocolBuilder protocol() {
        return protocol(Settings.baseUrl());
    }

    static HttpProtocolBuilder protocol(String base) {
        return http.baseUrl(base)
                .wsBaseUrl(base.replaceFirst("^http", "ws"))
                .userAgentHeader("berth-loadtest (Gatling)");
    }

    /**
     * Opens a websocket, which starts a new session (and its container), and checks the handler's
     * first message: {@code {"type":"hello","session":KEY,"hostname":...}}. Saves the key and the
     * hostname (the container's) for later checks. The "connect" time is the gateway's session
     * start: it answers the handshake only when the session is piped to its ready backend.
     */
    static ActionBuilder connectAndCheckHello() {
        return ws("connect")
                .connect(Settings.wsPath())
                .await(HELLO_TIMEOUT)
                .on(ws.checkTextMessage("hello")
                        .check(
                                jsonPath("$.type").is("hello"),
                                jsonPath("$.session").saveAs("sessionKey"),
                                jsonPath("$.hostname").saveAs("hostname"),
                                jsonPath("$.version").saveAs("version")));
    }

    /** The same, checking that the session runs {@code version} (the handler's hello names it). */
    static ActionBuilder connectAndCheckHello(String name, String version) {
        return ws(name).connect(Settings.wsPath())
                .await(HELLO_TIMEOUT)
                .on(ws.checkTextMessage("hello")
                        .check(
                                jsonPath("$.type").is("hello"),
                                jsonPath("$.session").saveAs("sessionKey"),
                                jsonPath("$.hostname").saveAs("hostname"),
                                jsonPath("$.version").is(version).saveAs("version")));
    }

    /**
     * Sends one text message and checks that the next message back is the same text: the handler
     * echoes every data frame that is not a command (its listing feed is off in
     * config/loadtest.yaml, so nothing else can come first).
     */
    static ChainBuilder echo(int messageBytes) {
        return echo(messageBytes, DEFAULT_WS);
    }

    /** The same on the websocket called {@code wsName} (a user may open a second one, e.g. after a restart). */
    static ChainBuilder echo(int messageBytes, String wsName) {
        return exec(session -> {
                    long sent = session.getLong("sent") + 1; // numbered, so a reordered or stale echo fails
                    String head = "user " + session.userId() + " message " + sent + " ";
                    return session.set("sent", sent).set("payload", head + padding(messageBytes - head.length()));
                })
                .exec(ws("send message")
                        .wsName(wsName)
                        .sendText("#{payload}")
                        .await(REPLY_TIMEOUT)
                        .on(ws.checkTextMessage("echo")
                                .check(bodyString().is(session -> session.getString("payload")))));
    }

    /** Starts the message counter {@link #echo} numbers its messages with. */
    static ChainBuilder startCounting() {
        return exec(session -> session.set("sent", 0L));
    }

    /**
     * Asks the handler for its state ({@code {"cmd":"state"}}) and checks that this connection
     * reached the session it started with: same key, same container, and still the one backend
     * websocket the gateway opened for it ({@code connections} 1: the gateway keeps it across client
     * reconnects).
     */
    static ActionBuilder checkState(String name) {
        return checkState(name, DEFAULT_WS, 1);
    }

    /**
     * The same on the websocket {@code wsName}, expecting the handler to have seen {@code connections}
     * websockets from gateways (a restarted gateway opens a second one to the same container), and,
     * so its state is the one from before, at least the {@code sent} messages the user sent so far
     * (plus one for each state command).
     */
    static ActionBuilder checkState(String name, String wsName, int connections) {
        return ws("ask " + name)
                .wsName(wsName)
                .sendText("{\"cmd\":\"state\"}")
                .await(REPLY_TIMEOUT)
                .on(ws.checkTextMessage(name)
                        .check(
                                jsonPath("$.type").is("state"),
                                jsonPath("$.session").is(session -> session.getString("sessionKey")),
                                jsonPath("$.hostname").is(session -> session.getString("hostname")),
                                jsonPath("$.version").is(session -> session.getString("version")),
                                jsonPath("$.framesReceived").ofLong().gte(session -> session.getLong("sent")),
                                jsonPath("$.connections").ofInt().is(connections)));
    }

    /** Closes with 1000: the client is done, the gateway ends the session and removes its container. */
    static ActionBuilder closeAndEnd() {
        return closeAndEnd(DEFAULT_WS);
    }

    static ActionBuilder closeAndEnd(String wsName) {
        return ws("close").wsName(wsName).close(1000, "done");
    }

    private static String padding(int length) {
        return "x".repeat(Math.max(0, length));
    }
}
