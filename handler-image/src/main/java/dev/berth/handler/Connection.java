package dev.berth.handler;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * One websocket: sends the hello, runs the listing feed, answers commands and echoes every
 * other data frame back unchanged, frame by frame. Runs on the socket's event loop.
 */
final class Connection {

  private static final byte[] COMMAND_PREFIX = "{\"cmd\"".getBytes(StandardCharsets.US_ASCII);

  private final ServerWebSocket socket;
  private final SessionState state;
  private final HandlerConfig config;
  private final String hostname;
  private final long number;
  private final ListingFeed feed;
  private final long openedAtNanos = System.nanoTime();
  private long framesIn;

  Connection(Vertx vertx, ServerWebSocket socket, SessionState state, HandlerConfig config, String hostname,
             long number) {
    this.socket = socket;
    this.state = state;
    this.config = config;
    this.hostname = hostname;
    this.number = number;
    this.feed = new ListingFeed(vertx, socket, state);
  }

  long number() {
    return number;
  }

  ServerWebSocket socket() {
    return socket;
  }

  /** Frames this connection echoed. */
  long framesIn() {
    return framesIn;
  }

  long ageMillis() {
    return (System.nanoTime() - openedAtNanos) / 1_000_000L;
  }

  /** Installs the handlers, sends the hello and starts the feed. */
  void start() {
    socket.frameHandler(this::onFrame);
    socket.writeTextMessage(new JsonObject()
        .put("type", "hello")
        .put("session", config.session())
        .put("version", config.version())
        .put("hostname", hostname)
        .put("connection", number)
        .encode());
    feed.rate(state.feedPerSecondOr(config.feedPerSecond()));
  }

  /** Called from the close handler. */
  void stop() {
    feed.stop();
  }

  private void onFrame(WebSocketFrame frame) {
    switch (frame.type()) {
      case TEXT:
      case BINARY:
      case CONTINUATION:
        break;
      case PING:
        state.pingReceived(); // counted so a test can tell whether a proxy forwards pings
        return;
      default:
        return; // PONG, CLOSE: Vert.x answers pings and completes the close handshake
    }
    if (frame.isText() && frame.isFinal() && isCommand(frame.binaryData())) {
      command(frame.textData());
      return;
    }
    framesIn++;
    state.frameReceived(frame.binaryData().length());
    if (socket.isClosed()) {
      return; // a close frame overtook this one: nothing can be written any more
    }
    // The received frame keeps its type (text stays text), fin bit and raw bytes, so a
    // fragmented message comes back fragmented the same way, even mid UTF-8 sequence.
    socket.writeFrame(frame);
    if (socket.writeQueueFull()) {
      socket.pause();
      socket.drainHandler(v -> socket.resume());
    }
  }

  private static boolean isCommand(Buffer payload) {
    if (payload.length() < COMMAND_PREFIX.length) {
      return false;
    }
    for (int i = 0; i < COMMAND_PREFIX.length; i++) {
      if (payload.getByte(i) != COMMAND_PREFIX[i]) {
        return false;
      }
    }
    return true;
  }

  private void command(String text) {
    JsonObject command;
    try {
      command = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      reply(error("command is not a JSON object: " + e.getMessage()));
      return;
    }
    Object name = command.getValue("cmd");
    if ("feed".equals(name)) {
      feedCommand(command);
    } else if ("state".equals(name)) {
      reply(new JsonObject()
          .put("type", "state")
          .put("session", config.session())
          .put("hostname", hostname)
          .put("version", config.version())
          .put("framesReceived", state.framesReceived())
          .put("bytesReceived", state.bytesReceived())
          .put("connections", state.connections())
          .put("pingsReceived", state.pingsReceived())
          .put("startedAt", state.startedAt())
          .put("lastCloseCode", state.lastCloseCode())
          .put("lastCloseReason", state.lastCloseReason()));
    } else if ("close".equals(name)) {
      closeCommand(command);
    } else if ("leak".equals(name)) {
      leakCommand(command);
    } else {
      reply(error("unknown cmd " + (name instanceof String ? "\"" + name + "\"" : String.valueOf(name))
          + "; known: feed, state, close, leak"));
    }
  }

  private void feedCommand(JsonObject command) {
    Object value = command.getValue("perSecond");
    int max = HandlerConfig.MAX_FEED_PER_SECOND;
    if (!(value instanceof Number number)
        || number.doubleValue() != Math.rint(number.doubleValue())
        || number.doubleValue() < 0 || number.doubleValue() > max) {
      reply(error("feed needs \"perSecond\": an integer from 0 to " + max + ", got " + value));
      return;
    }
    int perSecond = number.intValue();
    feed.rate(perSecond);
    state.feedRequested(perSecond);
    reply(new JsonObject().put("type", "feed").put("perSecond", perSecond));
  }

  /** Closes this websocket with the code and reason asked for: lets a test drive a backend close. */
  private void closeCommand(JsonObject command) {
    Object code = command.getValue("code");
    Object reason = command.getValue("reason", "");
    boolean valid = code instanceof Integer c && (c == 1000 || (c >= 3000 && c <= 4999));
    if (!valid || !(reason instanceof String text) || text.getBytes(StandardCharsets.UTF_8).length > 123) {
      reply(error("close needs \"code\": 1000 or 3000-4999 and an optional \"reason\" of at most 123 bytes"));
      return;
    }
    socket.close(((Integer) code).shortValue(), (String) reason);
  }

  /**
   * Takes and touches native memory that is never given back, as a leaking app would: lets a test
   * see what the container's memory limit does to a session (the kernel kills the process).
   */
  private void leakCommand(JsonObject command) {
    Object mib = command.getValue("mib");
    if (!(mib instanceof Integer size) || size < 1 || size > 65536) {
      reply(error("leak needs \"mib\": an integer from 1 to 65536"));
      return;
    }
    reply(new JsonObject().put("type", "leak").put("mib", size));
    NativeMemory.leak((long) size << 20);
  }

  private static JsonObject error(String message) {
    return new JsonObject().put("type", "error").put("message", message);
  }

  private void reply(JsonObject message) {
    if (!socket.isClosed()) {
      socket.writeTextMessage(message.encode());
    }
  }
}
