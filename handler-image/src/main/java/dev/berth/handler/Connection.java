package dev.berth.handler;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One websocket, read by the thread that upgraded it: sends the hello, runs the listing feed,
 * answers commands and echoes every other data frame back unchanged, frame by frame. Everything
 * it sends goes through its {@link FrameWriter}.
 *
 * <p>It is the example every user copies, so it keeps to RFC 6455 on its own: client frames must
 * be masked, reserved bits, unknown opcodes, misplaced or oversized control frames and
 * continuations out of place fail the connection with 1002, a frame or message over
 * {@link HandlerServer#MAX_WEBSOCKET_SIZE} with 1009, text that is not UTF-8 with 1007; failing
 * always sends the close frame before the TCP connection ends. The handler's own messages never
 * start inside an echoed fragmented message (section 5.4).
 */
final class Connection implements Runnable {

  private static final int CONTINUATION = 0x0;
  private static final int TEXT = 0x1;
  private static final int BINARY = 0x2;
  private static final int CLOSE = 0x8;
  private static final int PING = 0x9;
  private static final int PONG = 0xA;
  private static final byte[] COMMAND_PREFIX = "{\"cmd\"".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_PROBE_MS = 5_000;
  private static final int MAX_PROBE_HOST = 255;
  private static final int MAX_SESSION_KEY = 64;
  /** Probes one connection may have running at once; a probe command over it is refused with an error. */
  static final int MAX_PROBES = 4;

  private final HandlerServer server;
  private final SessionState state;
  private final HandlerConfig config;
  private final Socket socket;
  private final InputStream in;
  private final FrameWriter writer;
  private final ListingFeed feed;
  private final String path;
  private final long openedAtNanos = System.nanoTime();
  private final Utf8Validator utf8 = new Utf8Validator();
  private final byte[] header = new byte[8];
  private long number;
  private long framesIn;
  private boolean inMessage;    // a non-final data frame was received, its final frame not yet
  private boolean textMessage;  // the message being received is text (continuations carry no type)
  private long messageBytes;    // payload received so far of the unfinished message
  private Short closeCode;      // how this websocket ended: the peer's close code, else ours
  private String closeReason;
  private boolean failed;       // this side failed the connection: nothing more is read as frames
  private ScheduledFuture<?> closeTimer;
  /** Probes started and not yet ended; only the reader adds to it, a probe's thread takes off. */
  private final AtomicInteger probesRunning = new AtomicInteger();

  Connection(HandlerServer server, Socket socket, InputStream in, OutputStream out, String path) {
    this.server = server;
    this.state = server.state();
    this.config = server.config();
    this.socket = socket;
    this.in = in;
    this.path = path;
    this.writer = new FrameWriter(socket, out);
    this.feed = new ListingFeed(server.scheduler(), writer, state);
  }

  FrameWriter writer() {
    return writer;
  }

  long number() {
    return number;
  }

  /** Frames this connection echoed. */
  long framesIn() {
    return framesIn;
  }

  long ageMillis() {
    return (System.nanoTime() - openedAtNanos) / 1_000_000L;
  }

  /**
   * Reads the websocket until it ends. Says hello first; a pooled handler not yet claimed first
   * waits for its gateway's {@code {"cmd":"claim","session":KEY}}.
   */
  @Override
  public void run() {
    Thread writing = new Thread(writer, Thread.currentThread().getName() + "-writer");
    writing.setDaemon(true);
    writing.start();
    number = server.opened(this);
    if (number < 0) {
      closeWith(1001, "session over"); // the session is ending: no new websocket
      drainAndClose();
      return;
    }
    server.log().info("connect #" + number + " from " + address(socket.getRemoteSocketAddress()) + " path " + path
        + " (open " + state.openConnections() + ", total " + state.connections() + ")");
    try {
      if (state.sessionKey() != null) {
        greet();
      }
      readFrames();
    } catch (IOException | InterruptedException e) {
      // the peer went away, or the socket was closed under us (close timeout, stop)
    } catch (RuntimeException e) {
      server.log().info("connection #" + number + " failed: " + e);
      closeWith(1011, "internal error");
    } finally {
      feed.stop();
      drainAndClose();
      server.closed(this, closeCode, closeReason);
    }
  }

  private static String address(SocketAddress address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }

  /** Says hello (on the reader thread: waits while the backlog is large) and starts the feed. */
  private void greet() throws InterruptedException {
    writer.reply(new Json.Writer()
        .put("type", "hello")
        .put("session", state.sessionKey())
        .put("version", config.version())
        .put("hostname", server.hostname())
        .put("connection", number)
        .toString());
    feed.rate(state.feedPerSecondOr(config.feedPerSecond()));
  }

  /**
   * Closes this websocket from the handler's side (a close command, a failure, the shutdown):
   * queues the close frame, after which nothing more is sent or echoed, and closes the socket
   * anyway if the peer has not closed TCP within {@link HandlerServer#CLOSE_TIMEOUT_MS}.
   * Callable from any thread.
   */
  void closeWith(int code, String reason) {
    feed.stop();
    if (writer.close(code, reason)) {
      synchronized (this) {
        if (closeCode == null) {
          closeCode = (short) code;
          closeReason = reason;
        }
        closeTimer = server.schedule(new CloseTimeout(), HandlerServer.CLOSE_TIMEOUT_MS);
      }
    }
  }

  /** Drops the connection at once, without a close handshake (the server stops). */
  void abort() {
    feed.stop();
    writer.abort();
    FrameWriter.closeQuietly(socket);
  }

  /** The peer did not close TCP in time after the close frames. */
  private final class CloseTimeout implements Runnable {
    @Override
    public void run() {
      FrameWriter.closeQuietly(socket);
    }
  }

  /**
   * After a close frame went out (or the peer vanished): discards whatever still arrives until the
   * peer closes TCP (it has our close frame, or is gone) or the close timeout closes the socket,
   * then closes it. The writer shut down the output after the close frame, so a peer waiting for
   * the server to end TCP sees the end too.
   */
  private void drainAndClose() {
    if (writer.closeQueued()) {
      byte[] discard = new byte[8192];
      try {
        while (in.read(discard) >= 0) {
          // nothing read after a close frame is used
        }
      } catch (IOException e) {
        // reset, or closed by the close timeout
      }
    }
    writer.abort();
    FrameWriter.closeQuietly(socket);
    synchronized (this) {
      if (closeTimer != null) {
        closeTimer.cancel(false);
      }
    }
  }

  /**
   * Fails the websocket (RFC 6455 section 7.1.7): closes it with {@code code}, echoes nothing
   * more, and reads no more frames (after a protocol error the stream cannot be trusted).
   */
  private void fail(int code, String reason) {
    failed = true;
    closeWith(code, reason);
  }

  /** Reads frames until a close frame, a failure or the end of TCP (RFC 6455 section 5.2). */
  private void readFrames() throws IOException, InterruptedException {
    while (!failed) {
      int b0 = in.read();
      if (b0 < 0) {
        return; // TCP ended without a close frame
      }
      int b1 = readByte();
      boolean fin = (b0 & 0x80) != 0;
      int opcode = b0 & 0x0F;
      boolean control = (opcode & 0x08) != 0;
      long length = b1 & 0x7F;
      if ((b0 & 0x70) != 0) {
        fail(1002, "protocol error: reserved bits set");
        return;
      }
      if (opcode > BINARY && opcode != CLOSE && opcode != PING && opcode != PONG) {
        fail(1002, "protocol error: unknown opcode " + opcode);
        return;
      }
      if (control && (!fin || length > 125)) {
        fail(1002, "protocol error: control frame fragmented or over 125 bytes");
        return;
      }
      if ((b1 & 0x80) == 0) {
        fail(1002, "protocol error: client frame not masked");
        return;
      }
      if (length == 126) {
        readFully(header, 2);
        length = ((header[0] & 0xFF) << 8) | (header[1] & 0xFF);
      } else if (length == 127) {
        readFully(header, 8);
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | (header[i] & 0xFF);
        }
        if (length < 0) {
          fail(1002, "protocol error: negative length");
          return;
        }
      }
      if (!control) {
        if (opcode == CONTINUATION && !inMessage) {
          fail(1002, "protocol error: continuation frame with no message to continue");
          return;
        }
        if (opcode != CONTINUATION && inMessage) {
          fail(1002, "protocol error: new message before the final frame of the last");
          return;
        }
        // Checked before the payload is read: a 1009 never waits for megabytes to arrive.
        if (length > HandlerServer.MAX_WEBSOCKET_SIZE || messageBytes + length > HandlerServer.MAX_WEBSOCKET_SIZE) {
          fail(1009, "message too big");
          return;
        }
      }
      readFully(header, 4);
      byte[] payload = new byte[(int) length];
      readFully(payload, payload.length);
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= header[i & 3];
      }
      if (control) {
        if (!onControl(opcode, payload)) {
          return; // a close frame: the handshake ends the websocket
        }
      } else {
        onData(opcode, fin, payload);
      }
    }
  }

  /** A ping, pong or close; false when the connection is over. */
  private boolean onControl(int opcode, byte[] payload) throws InterruptedException {
    if (opcode == PING) {
      state.pingReceived(); // counted so a test can tell whether a proxy forwards pings
      writer.pong(payload);
      return true;
    }
    if (opcode == PONG) {
      return true;
    }
    // CLOSE (section 5.5.1): no body, or a valid code (7.4) and a UTF-8 reason.
    if (payload.length == 1) {
      fail(1002, "protocol error: 1-byte close frame");
      return false;
    }
    int code = payload.length == 0 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
    if (payload.length >= 2 && !validCloseCode(code)) {
      fail(1002, "protocol error: invalid close code " + code);
      return false;
    }
    Utf8Validator reasonCheck = new Utf8Validator();
    if (payload.length > 2 && !(reasonCheck.accept(payload, 2, payload.length - 2) && reasonCheck.complete())) {
      fail(1002, "protocol error: close reason is not UTF-8");
      return false;
    }
    String reason = payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
    synchronized (this) {
      closeCode = (short) code; // the peer's code is the one remembered, also after ours went out
      closeReason = reason;
    }
    // Echo the code (or an empty close for an empty one), unless ours went out first: then this
    // is the peer's answer and the handshake is complete.
    closeWith(payload.length == 0 ? -1 : code, "");
    return false;
  }

  /** Close codes a peer may send (RFC 6455 section 7.4; 1012-1014 registered since; 5000+ undefined, let through). */
  static boolean validCloseCode(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || code >= 3000;
  }

  /** A text, binary or continuation frame. */
  private void onData(int opcode, boolean fin, byte[] payload) throws InterruptedException {
    if (opcode != CONTINUATION) {
      textMessage = opcode == TEXT;
    }
    inMessage = !fin;
    messageBytes = fin ? 0 : messageBytes + payload.length;
    // Checked before anything is echoed, so the frame holding the first invalid byte (or the
    // final frame of a message cut off mid code point) never goes back out.
    if (textMessage && !(utf8.accept(payload) && (!fin || utf8.complete()))) {
      fail(1007, "text message is not valid UTF-8");
      return;
    }
    if (writer.closeQueued()) {
      return; // closing: frames still arriving are read, not answered, until the peer's close
    }
    if (state.sessionKey() == null) {
      claim(opcode, fin, payload);
      return;
    }
    if (opcode == TEXT && fin && isCommand(payload)) {
      command(new String(payload, StandardCharsets.UTF_8));
      return;
    }
    framesIn++;
    state.frameReceived(payload.length);
    // The received frame keeps its type (text stays text), fin bit and raw bytes, so a
    // fragmented message comes back fragmented the same way, even mid UTF-8 sequence.
    writer.echo(opcode, fin, payload);
  }

  private static boolean isCommand(byte[] payload) {
    if (payload.length < COMMAND_PREFIX.length) {
      return false;
    }
    for (int i = 0; i < COMMAND_PREFIX.length; i++) {
      if (payload[i] != COMMAND_PREFIX[i]) {
        return false;
      }
    }
    return true;
  }

  /** The first frame a pooled handler gets names its session; anything else is refused (1008). */
  private void claim(int opcode, boolean fin, byte[] payload) throws InterruptedException {
    Map<String, Object> claim = null;
    if (opcode == TEXT && fin) {
      try {
        claim = Json.parseObject(new String(payload, StandardCharsets.UTF_8));
      } catch (Json.ParseException notJson) {
        // refused below
      }
    }
    Object key = claim == null || !"claim".equals(claim.get("cmd")) ? null : claim.get("session");
    if (!(key instanceof String text) || !isSessionKey(text) || !state.claim(text)) {
      fail(1008, "a pooled handler must be claimed first");
      return;
    }
    greet();
  }

  /** [A-Za-z0-9_-]{1,64}, without a regex. */
  private static boolean isSessionKey(String key) {
    if (key.isEmpty() || key.length() > MAX_SESSION_KEY) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (!(isAsciiLetterOrDigit(c) || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** An IP literal (IPv6 without brackets) or a host name: [A-Za-z0-9._:-]{1,255}, without a regex. */
  private static boolean isProbeHost(String host) {
    if (host.isEmpty() || host.length() > MAX_PROBE_HOST) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!(isAsciiLetterOrDigit(c) || c == '.' || c == '_' || c == ':' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isAsciiLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private void command(String text) throws InterruptedException {
    Map<String, Object> command;
    try {
      command = Json.parseObject(text);
    } catch (Json.ParseException e) {
      reply(error("command is not a JSON object: " + e.getMessage()));
      return;
    }
    Object name = command.get("cmd");
    if ("feed".equals(name)) {
      feedCommand(command);
    } else if ("state".equals(name)) {
      reply(new Json.Writer()
          .put("type", "state")
          .put("session", state.sessionKey())
          .put("hostname", server.hostname())
          .put("version", config.version())
          .put("framesReceived", state.framesReceived())
          .put("bytesReceived", state.bytesReceived())
          .put("connections", state.connections())
          .put("pingsReceived", state.pingsReceived())
          .put("startedAt", state.startedAt())
          .put("lastCloseCode", state.lastCloseCode())
          .put("lastCloseReason", state.lastCloseReason())
          .toString());
    } else if ("close".equals(name)) {
      closeCommand(command);
    } else if ("claim".equals(name)) {
      // Another connection claimed this handler first (a gateway racing for a pool entry): the
      // same session is greeted again, any other refused.
      if (state.sessionKey().equals(command.get("session"))) {
        greet();
      } else {
        fail(1008, "already claimed for another session");
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

  private void feedCommand(Map<String, Object> command) throws InterruptedException {
    Object value = command.get("perSecond");
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
    reply(new Json.Writer().put("type", "feed").put("perSecond", perSecond).toString());
  }

  /** Closes this websocket with the code and reason asked for: lets a test drive a backend close. */
  private void closeCommand(Map<String, Object> command) throws InterruptedException {
    Object code = command.get("code");
    Object reason = orDefault(command, "reason", "");
    boolean valid = code instanceof Integer c && (c == 1000 || (c >= 3000 && c <= 4999));
    if (!valid || !(reason instanceof String text) || text.getBytes(StandardCharsets.UTF_8).length > 123) {
      reply(error("close needs \"code\": 1000 or 3000-4999 and an optional \"reason\" of at most 123 bytes"));
      return;
    }
    closeWith((Integer) code, (String) reason);
  }

  /**
   * Takes and touches native memory that is never given back, as a leaking app would: lets a test
   * see what the container's memory limit does to a session (the kernel kills the process).
   */
  private void leakCommand(Map<String, Object> command) throws InterruptedException {
    Object mib = command.get("mib");
    if (!(mib instanceof Integer size) || size < 1 || size > 65536) {
      reply(error("leak needs \"mib\": an integer from 1 to 65536"));
      return;
    }
    reply(new Json.Writer().put("type", "leak").put("mib", size).toString());
    NativeMemory.leak((long) size << 20);
  }

  /**
   * Tries a TCP connection from where the handler runs (inside the session's container) and
   * answers whether it was accepted: lets a test prove which addresses a session can reach. The
   * connect runs on the server's probe threads, so the echo goes on meanwhile. At most
   * {@link #MAX_PROBES} run at once (one more is refused with an error and starts nothing), and
   * one is started only while the writer's backlog is under its high-water mark: the answers,
   * which other threads queue without waiting, stay bounded too.
   */
  private void probeCommand(Map<String, Object> command) throws InterruptedException {
    Object host = command.get("host");
    Object port = command.get("port");
    Object timeout = orDefault(command, "timeoutMs", 1000);
    if (!(host instanceof String h) || !isProbeHost(h)
        || !(port instanceof Integer p) || p < 1 || p > 65535
        || !(timeout instanceof Integer t) || t < 1 || t > MAX_PROBE_MS) {
      reply(error("probe needs \"host\": an IP address or host name of at most 255 characters, \"port\": 1-65535"
          + " and an optional \"timeoutMs\": 1-" + MAX_PROBE_MS + " (default 1000)"));
      return;
    }
    if (probesRunning.get() >= MAX_PROBES) { // only this thread adds: the count cannot rise meanwhile
      reply(error("probe refused: " + MAX_PROBES + " probes are running on this connection, the most at once;"
          + " send it again once one has answered"));
      return;
    }
    if (!writer.awaitRoom()) {
      return; // closing: no answer could be sent
    }
    Probe probe = new Probe(h, p, t);
    probesRunning.incrementAndGet();
    // The connect timeout covers only the TCP handshake; this timer also bounds the name lookup.
    probe.timer = server.schedule(probe.new TimedOut(), t);
    if (!server.runProbe(probe)) {
      probesRunning.decrementAndGet();
      probe.answer("the handler is stopping");
    }
  }

  /** One probe: the first of its connect and its timer to finish answers. */
  private final class Probe implements Runnable {
    private final String host;
    private final int port;
    private final int timeoutMs;
    private final AtomicBoolean answered = new AtomicBoolean();
    volatile ScheduledFuture<?> timer;

    Probe(String host, int port, int timeoutMs) {
      this.host = host;
      this.port = port;
      this.timeoutMs = timeoutMs;
    }

    /**
     * On a probe thread. Its slot is given back before the answer, so a client that waits for the
     * answer may send the next probe at once; a probe the timer answered first (a slow name
     * lookup) keeps its slot until its thread is done.
     */
    @Override
    public void run() {
      String error;
      try {
        error = connect();
      } finally {
        probesRunning.decrementAndGet();
      }
      answer(error);
    }

    /** Null if the connect succeeded, else why not. */
    private String connect() {
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress(host, port), timeoutMs); // closed at once
        return null;
      } catch (SocketTimeoutException e) {
        return "timed out after " + timeoutMs + " ms";
      } catch (UnknownHostException e) {
        return "unknown host " + e.getMessage();
      } catch (IOException | IllegalArgumentException | SecurityException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
      }
    }

    final class TimedOut implements Runnable {
      @Override
      public void run() {
        answer("timed out after " + timeoutMs + " ms");
      }
    }

    /**
     * Queues the answer without waiting (on a probe thread or the timer; bounded by
     * {@link #MAX_PROBES}), held while an echoed message is open.
     *
     * @param error null if reachable
     */
    void answer(String error) {
      if (!answered.compareAndSet(false, true)) {
        return;
      }
      ScheduledFuture<?> pending = timer;
      if (pending != null) {
        pending.cancel(false);
      }
      Json.Writer answer = new Json.Writer().put("type", "probe").put("host", host).put("port", port)
          .put("reachable", error == null);
      writer.send((error == null ? answer : answer.put("error", error)).toString());
    }
  }

  private static Object orDefault(Map<String, Object> map, String key, Object fallback) {
    Object value = map.get(key);
    return value == null ? fallback : value;
  }

  private static String error(String message) {
    return new Json.Writer().put("type", "error").put("message", message).toString();
  }

  /**
   * Sends the answer to a command, on the reader thread: waits while the writer's backlog is over
   * its high-water mark (a client sending commands without reading stops the handler reading);
   * the writer holds it while an echoed message is unfinished.
   */
  private void reply(String message) throws InterruptedException {
    writer.reply(message);
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("TCP ended inside a frame");
    }
    return b;
  }

  private void readFully(byte[] into, int length) throws IOException {
    int done = 0;
    while (done < length) {
      int n = in.read(into, done, length - done);
      if (n < 0) {
        throw new EOFException("TCP ended inside a frame");
      }
      done += n;
    }
  }
}
