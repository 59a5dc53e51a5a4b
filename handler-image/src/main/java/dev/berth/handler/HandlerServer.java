package dev.berth.handler;

import java.io.BufferedInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/websocket server of one session, on the plain JDK: a blocking accept thread and one
 * thread per connection (a session has one or two), plus one scheduler thread for feed ticks,
 * close timeouts and the idle timer, and, from the first probe on, pooled threads for probes'
 * blocking connects. No event loop to start is what makes it start fast.
 *
 * <ul>
 *   <li>{@code GET /ready} and {@code HEAD /ready}: 200 {@code ready}; any other plain request:
 *       404. HTTP/1.1 keep-alive, as a pooling client expects.</li>
 *   <li>A websocket upgrade on any path (RFC 6455 section 4.2; no extension, no subprotocol)
 *       starts a {@link Connection} on the same thread.</li>
 *   <li>While no websocket is connected for longer than the idle grace (counted from start and
 *       from the last disconnect) the injected exit action runs once.</li>
 * </ul>
 */
public final class HandlerServer {

  /** Frame and message size limit: a 1 MiB message must pass in one frame, with room to spare. */
  public static final int MAX_WEBSOCKET_SIZE = 16 * 1024 * 1024;
  /** How long a closing websocket waits for the peer to close TCP before the socket is closed anyway. */
  static final long CLOSE_TIMEOUT_MS = 2_000;
  private static final int MAX_REQUEST_HEAD = 8_192;
  /** An HTTP connection with no request for this long is closed. */
  private static final int HTTP_IDLE_MS = 60_000;
  /** Request bodies a plain request may carry (skipped to reach the next request). */
  private static final long MAX_SKIPPED_BODY = 1 << 20;
  private static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  /** An idle probe thread ends after this long. */
  private static final long PROBE_THREAD_KEEP_ALIVE_MS = 30_000;

  private final HandlerConfig config;
  private final SessionState state;
  private final String hostname;
  private final HandlerLog log;
  private final Runnable exitAction;

  private final Set<Connection> connections = new LinkedHashSet<>();
  private final ScheduledThreadPoolExecutor scheduler;
  /** Runs probes' connects; made at the first probe (nothing more to start before listening). */
  private ThreadPoolExecutor probes;
  private ServerSocket server;
  private ScheduledFuture<?> idleTimer;
  private boolean exiting;
  private boolean stopped;

  /**
   * @param exitAction run once, on the scheduler thread, when the idle grace expires; the real
   *                   process exits there, tests count it
   */
  public HandlerServer(HandlerConfig config, SessionState state, String hostname, HandlerLog log,
                       Runnable exitAction) {
    this.config = config;
    this.state = state;
    this.hostname = hostname;
    this.log = log;
    this.exitAction = exitAction;
    this.scheduler = new ScheduledThreadPoolExecutor(1, new Daemons("berth-timer"));
    scheduler.setRemoveOnCancelPolicy(true); // a cancelled feed or timer leaves nothing behind
  }

  /** Binds, starts accepting and logs the "listening on ... started in N ms" line. */
  public void start() throws IOException {
    server = new ServerSocket();
    server.bind(new InetSocketAddress(config.host(), config.port()), 64);
    Thread acceptor = new Thread(new Acceptor(), "berth-accept");
    acceptor.start(); // not a daemon: it keeps the process alive
    log.info("listening on " + config.host() + ":" + server.getLocalPort() + " (version " + config.version()
        + ", hostname " + hostname + ", feed " + config.feedPerSecond() + "/s, idle grace "
        + config.idleGraceMs() + " ms" + sinceProcessStart() + ")");
    synchronized (this) {
      armIdleTimer();
    }
  }

  /**
   * ", started in N ms", counted from the process start with /proc's 10 ms clock ticks
   * (ProcessHandle's start instant is only second-accurate), or "" off Linux. Plain streams, no
   * java.nio.file: this runs before the first request and should load little.
   */
  static String sinceProcessStart() {
    try {
      String stat = readSmallFile("/proc/self/stat");
      String afterName = stat.substring(stat.lastIndexOf(')') + 2);
      long startTicks = Long.parseLong(field(afterName, 19)); // field 22 of stat, counted after "pid (comm)"
      long ageMs = millis(field(readSmallFile("/proc/uptime"), 0)) - startTicks * 10;
      return ", started in " + ageMs + " ms";
    } catch (Exception e) {
      return "";
    }
  }

  private static String readSmallFile(String path) throws IOException {
    try (FileInputStream in = new FileInputStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /** "12345.67" seconds as milliseconds (no Double.parseDouble: one thing less to load at start). */
  private static long millis(String seconds) {
    int dot = seconds.indexOf('.');
    long ms = Long.parseLong(dot < 0 ? seconds : seconds.substring(0, dot)) * 1000;
    long scale = 100;
    for (int i = dot + 1; dot >= 0 && i < seconds.length() && scale > 0; i++, scale /= 10) {
      ms += (seconds.charAt(i) - '0') * scale;
    }
    return ms;
  }

  /** The space-separated field {@code index} (from 0) of {@code text}. */
  private static String field(String text, int index) {
    int start = 0;
    for (int i = 0; i < index; i++) {
      start = text.indexOf(' ', start) + 1;
    }
    int end = text.indexOf(' ', start);
    return (end < 0 ? text.substring(start) : text.substring(start, end)).trim();
  }

  /** The port the server listens on (useful with port 0). */
  public int actualPort() {
    return server.getLocalPort();
  }

  ScheduledThreadPoolExecutor scheduler() {
    return scheduler;
  }

  HandlerConfig config() {
    return config;
  }

  SessionState state() {
    return state;
  }

  String hostname() {
    return hostname;
  }

  HandlerLog log() {
    return log;
  }

  /**
   * Closes every open websocket with {@code code} and {@code reason}, stops the idle timer and
   * refuses new websockets (with 1001); callable from any thread. Waits until every close
   * handshake finished or {@code timeoutMs} passed; true if all connections ended in time.
   */
  public boolean closeAll(int code, String reason, long timeoutMs) {
    List<Connection> open;
    synchronized (this) {
      exiting = true;
      cancelIdleTimer();
      open = new ArrayList<>(connections);
    }
    for (Connection connection : open) {
      connection.closeWith(code, reason);
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (this) {
      long left;
      while (!connections.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      return connections.isEmpty();
    }
  }

  /** Stops listening, drops every connection without a handshake and stops the timers. */
  public void stop() {
    List<Connection> open;
    ThreadPoolExecutor probing;
    synchronized (this) {
      exiting = true;
      stopped = true;
      cancelIdleTimer();
      open = new ArrayList<>(connections);
      probing = probes;
    }
    if (server != null) {
      try {
        server.close();
      } catch (IOException ignored) {
        // stopping anyway
      }
    }
    for (Connection connection : open) {
      connection.abort();
    }
    scheduler.shutdownNow();
    if (probing != null) {
      probing.shutdownNow();
    }
  }

  /** The open websockets, in the order they were opened (for tests). */
  synchronized List<Connection> openConnections() {
    return new ArrayList<>(connections);
  }

  /** Registers an upgraded websocket and returns its number, or -1 when the session is ending. */
  synchronized long opened(Connection connection) {
    if (exiting) {
      return -1;
    }
    cancelIdleTimer();
    connections.add(connection);
    return state.connectionOpened();
  }

  /** Called once by each connection {@link #opened} registered, when it has ended. */
  void closed(Connection connection, Short code, String reason) {
    int open;
    synchronized (this) {
      if (!connections.remove(connection)) {
        return;
      }
      open = state.connectionClosed();
      state.lastClose(code, reason);
      if (open == 0) {
        armIdleTimer();
      }
      notifyAll(); // closeAll waits for this
    }
    log.info("disconnect #" + connection.number() + " code " + (code == null ? "none" : code.toString())
        + " after " + connection.ageMillis() + " ms, " + connection.framesIn() + " frames echoed"
        + " (open " + open + ", total " + state.connections() + ")");
  }

  /** Runs {@code task} on the scheduler after {@code delayMs}; null once the server is stopped. */
  ScheduledFuture<?> schedule(Runnable task, long delayMs) {
    try {
      return scheduler.schedule(task, delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopped) {
      return null;
    }
  }

  /**
   * Runs a probe's blocking connect on a pooled daemon thread ("berth-probe"): an idle one is
   * reused, else one is made. Each connection runs at most {@link Connection#MAX_PROBES} probes at
   * once, so the threads are bounded by that, not by how many probes a client asks for. False
   * once the server is stopped.
   */
  boolean runProbe(Runnable probe) {
    ThreadPoolExecutor pool;
    synchronized (this) {
      if (stopped) {
        return false;
      }
      if (probes == null) {
        probes = new ThreadPoolExecutor(0, Integer.MAX_VALUE, PROBE_THREAD_KEEP_ALIVE_MS, TimeUnit.MILLISECONDS,
            new SynchronousQueue<Runnable>(), new Daemons("berth-probe"));
      }
      pool = probes;
    }
    try {
      pool.execute(probe);
      return true;
    } catch (RejectedExecutionException shutDown) {
      return false;
    }
  }

  private void armIdleTimer() {
    cancelIdleTimer();
    if (!exiting) {
      idleTimer = schedule(new IdleExit(), config.idleGraceMs());
    }
  }

  private void cancelIdleTimer() {
    if (idleTimer != null) {
      idleTimer.cancel(false);
      idleTimer = null;
    }
  }

  /** The idle grace expired: exit unless a websocket came meanwhile. */
  private final class IdleExit implements Runnable {
    @Override
    public void run() {
      synchronized (HandlerServer.this) {
        if (idleTimer == null || !connections.isEmpty() || exiting) {
          return; // cancelled, or overtaken by a connect
        }
        idleTimer = null;
        exiting = true;
      }
      log.info("idle: no websocket for " + config.idleGraceMs() + " ms, exiting");
      exitAction.run();
    }
  }

  /** The accept loop: one thread per connection; a session has one or two, so threads are cheap here. */
  private final class Acceptor implements Runnable {
    @Override
    public void run() {
      int count = 0;
      while (!server.isClosed()) {
        Socket socket;
        try {
          socket = server.accept();
        } catch (IOException e) {
          if (server.isClosed()) {
            return;
          }
          continue; // e.g. the peer reset before accept: keep accepting
        }
        Thread thread = new Thread(new HttpConnection(socket), "berth-conn-" + ++count);
        thread.setDaemon(true);
        thread.start();
      }
    }
  }

  /** One TCP connection: plain HTTP requests until it is upgraded to a websocket or ends. */
  private final class HttpConnection implements Runnable {

    private final Socket socket;

    HttpConnection(Socket socket) {
      this.socket = socket;
    }

    @Override
    public void run() {
      boolean upgraded = false;
      try {
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(HTTP_IDLE_MS);
        InputStream in = new BufferedInputStream(socket.getInputStream(), 16 << 10);
        OutputStream out = socket.getOutputStream();
        while (true) {
          Request request = Request.read(in);
          if (request == null) {
            return; // the client closed, or went quiet
          }
          if (request.problem != null) {
            respond(out, request.problem, "", false, null);
            return;
          }
          if (request.wantsWebSocket()) {
            String refusal = request.webSocketProblem();
            if (refusal != null) {
              respond(out, refusal, "", false, refusal.startsWith("426") ? "sec-websocket-version: 13\r\n" : null);
              return;
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
                + "sec-websocket-accept: " + acceptKey(request.header("sec-websocket-key")) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.setSoTimeout(0); // a websocket may be quiet for as long as it likes
            upgraded = true;
            new Connection(HandlerServer.this, socket, in, out, request.path()).run();
            return;
          }
          boolean ready = "/ready".equals(request.path())
              && ("GET".equals(request.method) || "HEAD".equals(request.method));
          long body = request.contentLength();
          boolean keepAlive = request.keepAlive() && body >= 0 && body <= MAX_SKIPPED_BODY;
          respond(out, ready ? "200 OK" : "404 Not Found", ready ? "ready" : "not found",
              keepAlive, null, "HEAD".equals(request.method));
          if (!keepAlive) {
            return;
          }
          in.skipNBytes(body);
        }
      } catch (IOException e) {
        // the client went away mid-request: nothing to answer
      } finally {
        if (!upgraded) {
          FrameWriter.closeQuietly(socket);
        }
      }
    }

    private void respond(OutputStream out, String status, String body, boolean keepAlive, String extraHeaders)
        throws IOException {
      respond(out, status, body, keepAlive, extraHeaders, false);
    }

    private void respond(OutputStream out, String status, String body, boolean keepAlive, String extraHeaders,
                         boolean headOnly) throws IOException {
      byte[] content = body.getBytes(StandardCharsets.US_ASCII);
      String head = "HTTP/1.1 " + status + "\r\ncontent-type: text/plain\r\ncontent-length: " + content.length
          + "\r\n" + (keepAlive ? "" : "connection: close\r\n") + (extraHeaders == null ? "" : extraHeaders) + "\r\n";
      byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
      byte[] all = new byte[headBytes.length + (headOnly ? 0 : content.length)];
      System.arraycopy(headBytes, 0, all, 0, headBytes.length);
      if (!headOnly) {
        System.arraycopy(content, 0, all, headBytes.length, content.length);
      }
      out.write(all); // one write: one segment for the whole answer
      out.flush();
    }
  }

  /** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2). */
  static String acceptKey(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] digest = sha1.digest((key + WEBSOCKET_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the runtime has no SHA-1", e);
    }
  }

  /** An HTTP/1.1 request head: the request line and the few headers the handler looks at. */
  static final class Request {

    String method;
    String target;
    String version;
    /** Header lines as read, "name: value". */
    final List<String> headers = new ArrayList<>();
    /** Non-null when the head is malformed: the status line to answer with before closing. */
    String problem;

    /** Reads the next request head, or returns null at the end of the stream. */
    static Request read(InputStream in) throws IOException {
      Request request = new Request();
      byte[] line = new byte[MAX_REQUEST_HEAD];
      int total = 0;
      boolean first = true;
      while (true) {
        int length = 0;
        int b;
        while ((b = in.read()) != '\n') {
          if (b < 0) {
            return null; // ended before a complete head: nothing to answer
          }
          if (++total > MAX_REQUEST_HEAD) {
            request.problem = "431 Request Header Fields Too Large";
            return request;
          }
          line[length++] = (byte) b;
        }
        if (length > 0 && line[length - 1] == '\r') {
          length--;
        }
        String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
        if (first) {
          if (text.isEmpty()) {
            continue; // empty lines before the request line are allowed (RFC 9112 section 2.2)
          }
          first = false;
          int space1 = text.indexOf(' ');
          int space2 = text.indexOf(' ', space1 + 1);
          if (space1 <= 0 || space2 <= space1 + 1 || text.indexOf(' ', space2 + 1) >= 0) {
            request.problem = "400 Bad Request";
            return request;
          }
          request.method = text.substring(0, space1);
          request.target = text.substring(space1 + 1, space2);
          request.version = text.substring(space2 + 1);
          if (!request.version.startsWith("HTTP/1.")) {
            request.problem = "400 Bad Request";
            return request;
          }
        } else if (text.isEmpty()) {
          return request;
        } else {
          request.headers.add(text);
        }
      }
    }

    /** The value of the first header named {@code name} (lower case), trimmed, or null. */
    String header(String name) {
      for (String line : headers) {
        int colon = line.indexOf(':');
        if (colon == name.length() && line.regionMatches(true, 0, name, 0, colon)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }

    /** True if a header named {@code name} lists {@code token} (comma-separated, any case). */
    boolean headerHasToken(String name, String token) {
      String value = header(name);
      if (value == null) {
        return false;
      }
      for (String part : value.split(",")) {
        if (part.trim().equalsIgnoreCase(token)) {
          return true;
        }
      }
      return false;
    }

    /** The path, without the query. */
    String path() {
      int query = target.indexOf('?');
      return query < 0 ? target : target.substring(0, query);
    }

    boolean wantsWebSocket() {
      return headerHasToken("upgrade", "websocket");
    }

    /** Null if the upgrade is valid, else the status to refuse it with (RFC 6455 section 4.2.1). */
    String webSocketProblem() {
      if (!"GET".equals(method) || !headerHasToken("connection", "upgrade") || header("sec-websocket-key") == null
          || header("sec-websocket-key").isEmpty()) {
        return "400 Bad Request";
      }
      if (!"13".equals(header("sec-websocket-version"))) {
        return "426 Upgrade Required";
      }
      return null;
    }

    /** Content-Length of the body (0 if none), or -1 if it cannot be skipped (chunked or bad). */
    long contentLength() {
      if (header("transfer-encoding") != null) {
        return -1;
      }
      String value = header("content-length");
      if (value == null) {
        return 0;
      }
      try {
        long length = Long.parseLong(value);
        return length < 0 ? -1 : length;
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    boolean keepAlive() {
      if (headerHasToken("connection", "close")) {
        return false;
      }
      return !"HTTP/1.0".equals(version) || headerHasToken("connection", "keep-alive");
    }
  }

  /** Names the scheduler's thread and makes it a daemon (it must not keep the process alive). */
  static final class Daemons implements ThreadFactory {
    private final String name;

    Daemons(String name) {
      this.name = name;
    }

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    }
  }
}
