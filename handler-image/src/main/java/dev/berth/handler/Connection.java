package dev.berth.handler;

import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.regex.Pattern;

/**
 * One websocket: sends the hello, runs the listing feed, answers commands and echoes every
 * other data frame back unchanged, frame by frame. Runs on the socket's event loop.
 *
 * <p>It is the example every user copies, so it keeps to RFC 6455 on its own: text messages must
 * be UTF-8 (else 1007), a frame Netty's decoder rejects ends the connection with 1002, and the
 * handler's own messages never start inside an echoed fragmented message (section 5.4).
 */
final class Connection {

  private static final byte[] COMMAND_PREFIX = "{\"cmd\"".getBytes(StandardCharsets.US_ASCII);
  /** An IP literal (IPv6 without brackets) or a host name, as the probe command accepts it. */
  private static final Pattern PROBE_HOST = Pattern.compile("[A-Za-z0-9._:-]{1,255}");
  private static final int MAX_PROBE_MS = 5_000;
  private static final Pattern SESSION_KEY = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final Vertx vertx;
  private final ServerWebSocket socket;
  private final SessionState state;
  private final HandlerConfig config;
  private final String hostname;
  private final long number;
  private final ListingFeed feed;
  private final long openedAtNanos = System.nanoTime();
  private final Utf8Validator utf8 = new Utf8Validator();
  /** The handler's own messages that came up while an echoed message was unfinished. */
  private final Queue<String> held = new ArrayDeque<>();
  private long framesIn;
  private boolean textMessage;   // the message being received is text (continuations carry no type)
  private boolean midMessage;    // a non-final data frame was echoed, its final frame not yet
  private boolean failed;        // this side closed the websocket for a protocol violation
  private NetClient probeClient; // created by the first probe

  Connection(Vertx vertx, ServerWebSocket socket, SessionState state, HandlerConfig config, String hostname,
             long number) {
    this.vertx = vertx;
    this.socket = socket;
    this.state = state;
    this.config = config;
    this.hostname = hostname;
    this.number = number;
    this.feed = new ListingFeed(vertx, socket, state, () -> midMessage);
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

  /**
   * Installs the handlers, then says hello and starts the feed; a pooled handler not yet claimed
   * first waits for its gateway's {@code {"cmd":"claim","session":KEY}}.
   */
  void start() {
    socket.frameHandler(this::onFrame);
    socket.exceptionHandler(this::onException);
    if (state.sessionKey() != null) {
      greet();
    }
  }

  private void greet() {
    reply(new JsonObject()
        .put("type", "hello")
        .put("session", state.sessionKey())
        .put("version", config.version())
        .put("hostname", hostname)
        .put("connection", number));
    feed.rate(state.feedPerSecondOr(config.feedPerSecond()));
  }

  /** Called from the close handler. */
  void stop() {
    feed.stop();
    held.clear();
    if (probeClient != null) {
      probeClient.close();
      probeClient = null;
    }
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
    if (failed) {
      return; // frames that were already read when this side closed: never echoed
    }
    if (frame.type() != WebSocketFrameType.CONTINUATION) {
      textMessage = frame.isText(); // Netty's decoder rejects continuations outside a message
    }
    // Checked before anything is echoed, so the frame holding the first invalid byte (or the
    // final frame of a message cut off mid code point) never goes back out.
    if (textMessage && !(utf8.accept(frame.binaryData()) && (!frame.isFinal() || utf8.complete()))) {
      fail((short) 1007, "text message is not valid UTF-8");
      return;
    }
    if (state.sessionKey() == null) {
      claim(frame);
      return;
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
    midMessage = !frame.isFinal();
    if (!midMessage) {
      while (!held.isEmpty()) {
        socket.writeTextMessage(held.poll());
      }
    }
    if (socket.writeQueueFull()) {
      socket.pause();
      socket.drainHandler(v -> socket.resume());
    }
  }

  /**
   * Netty's decoder rejects frames RFC 6455 forbids (reserved bits, unknown opcodes, fragmented
   * or long control frames, continuations out of place, an invalid close code or close reason)
   * and reports it here; Vert.x drops the TCP connection right after this handler returns, so
   * the close frame written here is the peer's only chance to learn why.
   */
  private void onException(Throwable err) {
    if (err instanceof CorruptedWebSocketFrameException violation) {
      boolean tooBig = violation.closeStatus() == WebSocketCloseStatus.MESSAGE_TOO_BIG;
      fail(tooBig ? (short) 1009 : (short) 1002, tooBig ? "frame too big" : "protocol error");
      // Frames already echoed in this same read wait for Vert.x's flush at the end of the read,
      // which the drop overtakes, and the close frame with them: flush now.
      if (socket instanceof WebSocketInternal internal) {
        internal.channelHandlerContext().flush();
      }
    }
  }

  /** Fails the websocket (RFC 6455 section 7.1.7): closes it with {@code code}, echoes nothing more. */
  private void fail(short code, String reason) {
    if (failed) {
      return;
    }
    failed = true;
    held.clear();
    feed.stop();
    if (!socket.isClosed()) {
      socket.close(code, reason);
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

  /** The first frame a pooled handler gets names its session; anything else is refused (1008). */
  private void claim(WebSocketFrame frame) {
    JsonObject claim = null;
    try {
      claim = frame.isText() && frame.isFinal() ? new JsonObject(frame.textData()) : null;
    } catch (DecodeException | ClassCastException notJson) {
      // refused below
    }
    Object key = claim == null || !"claim".equals(claim.getValue("cmd")) ? null : claim.getValue("session");
    if (!(key instanceof String text) || !SESSION_KEY.matcher(text).matches() || !state.claim(text)) {
      fail((short) 1008, "a pooled handler must be claimed first");
      return;
    }
    greet();
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
          .put("session", state.sessionKey())
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
    } else if ("claim".equals(name)) {
      // Another connection claimed this handler first (a gateway racing for a pool entry): the
      // same session is greeted again, any other refused.
      if (state.sessionKey().equals(command.getValue("session"))) {
        greet();
      } else {
        fail((short) 1008, "already claimed for another session");
      }
    } else if ("leak".equals(name)) {
      leakCommand(command);
    } else if ("probe".equals(name)) {
      probeCommand(command);
    } else {
      reply(error("unknown cmd " + (name instanceof String ? "\"" + name + "\"" : String.valueOf(name))
          + "; known: feed, state, close, leak, probe"));
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

  /**
   * Tries a TCP connection from where the handler runs (inside the session's container) and
   * answers whether it was accepted: lets a test prove which addresses a session can reach.
   */
  private void probeCommand(JsonObject command) {
    Object host = command.getValue("host");
    Object port = command.getValue("port");
    Object timeout = command.getValue("timeoutMs", 1000);
    if (!(host instanceof String h) || !PROBE_HOST.matcher(h).matches()
        || !(port instanceof Integer p) || p < 1 || p > 65535
        || !(timeout instanceof Integer t) || t < 1 || t > MAX_PROBE_MS) {
      reply(error("probe needs \"host\": an IP address or host name of at most 255 characters, \"port\": 1-65535"
          + " and an optional \"timeoutMs\": 1-" + MAX_PROBE_MS + " (default 1000)"));
      return;
    }
    if (probeClient == null) {
      probeClient = vertx.createNetClient();
    }
    // The connect timeout covers only the TCP handshake; the timer also bounds the name lookup.
    Promise<Void> outcome = Promise.promise();
    long timer = vertx.setTimer(t, id -> outcome.tryFail("timed out after " + t + " ms"));
    probeClient.connect(new ConnectOptions().setHost(h).setPort(p).setTimeout(t)).onComplete(connected -> {
      vertx.cancelTimer(timer);
      if (connected.succeeded()) {
        connected.result().close();
        outcome.tryComplete();
      } else {
        Throwable cause = connected.cause();
        outcome.tryFail(cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName());
      }
    });
    outcome.future().onComplete(result -> {
      JsonObject answer = new JsonObject().put("type", "probe").put("host", h).put("port", p)
          .put("reachable", result.succeeded());
      reply(result.succeeded() ? answer : answer.put("error", result.cause().getMessage()));
    });
  }

  private static JsonObject error(String message) {
    return new JsonObject().put("type", "error").put("message", message);
  }

  /** Writes one of the handler's own messages, held back while an echoed message is unfinished. */
  private void reply(JsonObject message) {
    if (failed || socket.isClosed()) {
      return;
    }
    if (midMessage) {
      held.add(message.encode());
    } else {
      socket.writeTextMessage(message.encode());
    }
  }
}
