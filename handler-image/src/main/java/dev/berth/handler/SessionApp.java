package dev.berth.handler;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The app: what one session does with its websocket. Your own app goes here, in place of this
 * example (a live listing feed, an echo of every other data frame, and the {@code feed} and
 * {@code state} commands). Everything around it stays: the wire protocol ({@link HandlerServer},
 * {@link HttpConnection}, {@link WebSocketConnection}, {@link FrameReader}, {@link FrameWriter}),
 * the gateway's hello and warm-pool claim ({@link PoolClaim}); {@link TestHooks} can go.
 *
 * <p>One per websocket. {@link #started} and {@link #frame} run on the connection's reader thread:
 * a reply there ({@link FrameWriter#reply}) waits while the client does not read, which stops the
 * reading too (backpressure). Other threads send with {@link FrameWriter#send} and never wait.
 */
final class SessionApp {

    private final WebSocketConnection connection;
    private final HandlerServer server;
    private final SessionState state;
    private final FrameWriter writer;
    private final ListingFeed feed;
    /** Null unless BERTH_TEST_HOOKS=1. */
    private final TestHooks hooks;

    private long framesEchoed;

    SessionApp(WebSocketConnection connection, HandlerServer server, FrameWriter writer) {
        this.connection = connection;
        this.server = server;
        this.state = server.state();
        this.writer = writer;
        this.feed = new ListingFeed(server.scheduler(), writer, state);
        this.hooks = server.config().testHooks() ? new TestHooks(connection, server, writer) : null;
    }

    /** The session is known and its hello sent: starts the feed at the session's rate. */
    void started() {
        feed.rate(state.feedPerSecondOr(server.config().feedPerSecond()));
    }

    /** The websocket is closing or gone; callable from any thread, more than once. */
    void stop() {
        feed.stop();
    }

    /** Frames this connection echoed. */
    long framesEchoed() {
        return framesEchoed;
    }

    /** A text, binary or continuation frame of the claimed session: a command, else echoed. */
    void frame(int opcode, boolean fin, byte[] payload) throws InterruptedException {
        if (opcode == FrameReader.TEXT && fin && Commands.isCommand(payload)) {
            command(new String(payload, StandardCharsets.UTF_8));
            return;
        }
        framesEchoed++;
        state.frameReceived(payload.length);
        // The received frame keeps its type (text stays text), fin bit and raw bytes, so a
        // fragmented message comes back fragmented the same way, even mid UTF-8 sequence.
        writer.echo(opcode, fin, payload);
    }

    private void command(String text) throws InterruptedException {
        Map<String, Object> command;
        try {
            command = Json.parseObject(text);
        } catch (Json.ParseException e) {
            writer.reply(Commands.error("command is not a JSON object: " + e.getMessage()));
            return;
        }
        Object name = command.get("cmd");
        if ("feed".equals(name)) {
            feedCommand(command);
        } else if ("state".equals(name)) {
            writer.reply(new Json.Writer()
                    .put("type", "state")
                    .put("session", state.sessionKey())
                    .put("hostname", server.hostname())
                    .put("version", server.config().version())
                    .put("framesReceived", state.framesReceived())
                    .put("bytesReceived", state.bytesReceived())
                    .put("connections", state.connections())
                    .put("pingsReceived", state.pingsReceived())
                    .put("startedAt", state.startedAt())
                    .put("lastCloseCode", state.lastCloseCode())
                    .put("lastCloseReason", state.lastCloseReason())
                    .toString());
        } else if ("claim".equals(name)) {
            PoolClaim.again(connection, state, command.get("session"));
        } else if (hooks == null || !hooks.run(name, command)) {
            writer.reply(
                    Commands.error("unknown cmd " + (name instanceof String ? "\"" + name + "\"" : String.valueOf(name))
                            + "; known: feed, state" + (hooks == null ? "" : ", close, leak, probe")));
        }
    }

    private void feedCommand(Map<String, Object> command) throws InterruptedException {
        Object value = command.get("perSecond");
        int max = HandlerConfig.MAX_FEED_PER_SECOND;
        if (!(value instanceof Number number)
                || number.doubleValue() != Math.rint(number.doubleValue())
                || number.doubleValue() < 0
                || number.doubleValue() > max) {
            writer.reply(Commands.error("feed needs \"perSecond\": an integer from 0 to " + max + ", got " + value));
            return;
        }
        int perSecond = number.intValue();
        feed.rate(perSecond);
        state.feedRequested(perSecond);
        writer.reply(new Json.Writer()
                .put("type", "feed")
                .put("perSecond", perSecond)
                .toString());
    }
}
