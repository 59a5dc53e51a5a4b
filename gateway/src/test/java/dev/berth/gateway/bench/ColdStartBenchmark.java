package dev.berth.gateway.bench;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cold-start and idle-memory benchmark of the real gateway jar on the real Docker engine. Run it
 * with {@code scripts/bench-cold-start.sh [--sessions N] [--idle M]}; the Markdown report goes to
 * stdout and to {@code target/bench/cold-start-<timestamp>.md}, the gateway's own log to
 * {@code target/bench/gateway-<timestamp>.log}, progress to stderr.
 *
 * <ol>
 *   <li>starts {@code java -Xmx512m -jar gateway/target/berth-gateway.jar --config config/berth.yaml
 *       --port 0} from the repository root and waits for its listening line;</li>
 *   <li>warm-up: 2 sessions, closed after their hello, then waits for their grace to run out so the
 *       baseline is taken from a warmed-up gateway holding no session;</li>
 *   <li>cold start: N sessions one after another, each from a brand-new client without cookie,
 *       timed from just before {@code connect} to the 101 and to the hello frame; these clients stay
 *       open and count towards the idle set;</li>
 *   <li>idle memory: full GC and heap/RSS with 0, N and M open idle sessions (M - N more opened a few
 *       at a time), plus the classes whose live bytes grew most;</li>
 *   <li>stop: closes every client, SIGTERMs the gateway, and checks through the engine that no
 *       container this gateway launched is left (removing and reporting any that are).</li>
 * </ol>
 *
 * Every wait is bounded, and the whole run by {@code --time-limit-s}. Cleanup runs in a finally
 * block and in a shutdown hook, so an interrupted run still stops the gateway.
 */
public final class ColdStartBenchmark {

  private static final String ROUTE = "listings";
  private static final String JAR = "gateway/target/berth-gateway.jar";
  private static final String CONFIG = "config/berth.yaml";
  private static final String GATEWAY_HEAP = "-Xmx512m";
  private static final int WARMUP_SESSIONS = 2;
  private static final int MAX_FRAME = 16 << 20;
  private static final Duration LISTEN_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(40); // start 10s + ready 15s + slack
  private static final Duration GRACE_WAIT = Duration.ofSeconds(75);      // idleGrace 30s + stop + slack
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);
  private static final int MAX_FAILURES = 5;

  private static final Pattern LISTENING =
      Pattern.compile("Berth gateway listening on http://([^:/\\s]+):(\\d+)/(?: \\(launcher (\\w+))?");
  private static final Pattern RUNNING = Pattern.compile("launch session ([0-9a-f]+): .* running after (\\d+)ms");
  private static final Pattern READY = Pattern.compile("launch session ([0-9a-f]+) on \\S+: ready in (\\d+)ms");
  private static final Pattern FAILED = Pattern.compile("launch session ([0-9a-f]+) on \\S+: (\\S+) after (\\d+)ms");
  private static final Pattern HEAP_LINE = Pattern.compile("total (\\d+)K, used (\\d+)K");
  private static final Pattern HISTO_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
  private static final Pattern HISTO_TOTAL = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)");

  // ---- options ----------------------------------------------------------------------------

  record Options(Path root, int sessions, int idle, int concurrency, long pauseMs, Duration timeLimit) {

    static final String USAGE = """
        Usage: scripts/bench-cold-start.sh [--sessions N] [--idle M] [--concurrency C] [--pause-ms P]
                                           [--time-limit-s S] [--root DIR]
          --sessions N      cold starts, one after another (default 20)
          --idle M          idle sessions held for the memory reading, including the N above;
                            0 skips the memory part (default 100; the route allows 100)
          --concurrency C   idle sessions opened at a time (default 4)
          --pause-ms P      pause between two cold starts (default 500)
          --time-limit-s S  the whole run stops after this (default 600)
          --root DIR        repository root (default: the current directory)""";

    static Options parse(String[] args) {
      Path root = Path.of("").toAbsolutePath();
      int sessions = 20;
      int idle = 100;
      int concurrency = 4;
      long pauseMs = 500;
      long limitSeconds = 600;
      for (int i = 0; i < args.length; i++) {
        String flag = args[i];
        if (flag.equals("-h") || flag.equals("--help")) {
          throw new IllegalArgumentException(USAGE);
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
        }
        String value = args[++i];
        switch (flag) {
          case "--root" -> root = Path.of(value).toAbsolutePath();
          case "--sessions" -> sessions = number(flag, value, 1);
          case "--idle" -> idle = number(flag, value, 0);
          case "--concurrency" -> concurrency = number(flag, value, 1);
          case "--pause-ms" -> pauseMs = number(flag, value, 0);
          case "--time-limit-s" -> limitSeconds = number(flag, value, 10);
          default -> throw new IllegalArgumentException("unknown argument '" + flag + "'\n" + USAGE);
        }
      }
      if (idle != 0 && idle < sessions) {
        throw new IllegalArgumentException("--idle (" + idle + ") must be 0 or at least --sessions (" + sessions
            + "): the cold-start sessions stay open and are part of the idle set");
      }
      if (!Files.isRegularFile(root.resolve(CONFIG)) && Files.isRegularFile(root.getParent().resolve(CONFIG))) {
        root = root.getParent(); // started from gateway/
      }
      if (!Files.isRegularFile(root.resolve(CONFIG))) {
        throw new IllegalArgumentException(root + " has no " + CONFIG + ": run from the repository root or pass --root");
      }
      return new Options(root, sessions, idle, concurrency, pauseMs, Duration.ofSeconds(limitSeconds));
    }

    private static int number(String flag, String value, int min) {
      try {
        int n = Integer.parseInt(value);
        if (n >= min) {
          return n;
        }
      } catch (NumberFormatException ignored) {
        // reported below
      }
      throw new IllegalArgumentException(flag + " takes a whole number >= " + min + ", not '" + value + "'");
    }

    String rerun() {
      StringBuilder cmd = new StringBuilder("scripts/bench-cold-start.sh --sessions " + sessions + " --idle " + idle);
      if (concurrency != 4) {
        cmd.append(" --concurrency ").append(concurrency);
      }
      if (pauseMs != 500) {
        cmd.append(" --pause-ms ").append(pauseMs);
      }
      if (timeLimit.toSeconds() != 600) {
        cmd.append(" --time-limit-s ").append(timeLimit.toSeconds());
      }
      return cmd.toString();
    }
  }

  // ---- one benchmark client -----------------------------------------------------------------

  /** One brand-new websocket client: its own WebSocketClient, no cookie, handlers set before connect. */
  private static final class BenchClient {
    private final Vertx vertx;
    private final WebSocketClient client; // held: an unreachable client is closed by a Cleaner
    private final ClientWebSocket socket;
    private final Promise<JsonObject> hello = Promise.promise();
    private volatile WebSocket connected;
    private volatile boolean closedByPeer;
    volatile long startNanos;
    volatile long upgradedNanos;
    volatile long helloNanos;
    volatile String token;
    volatile boolean cookieSet;

    BenchClient(Vertx vertx) {
      this.vertx = vertx;
      client = vertx.createWebSocketClient(new WebSocketClientOptions()
          .setMaxFrameSize(MAX_FRAME).setMaxMessageSize(MAX_FRAME));
      socket = client.webSocket();
      socket.textMessageHandler(text -> {
        if (hello.future().isComplete()) {
          return; // listing updates: read and dropped
        }
        helloNanos = System.nanoTime();
        try {
          JsonObject json = new JsonObject(text);
          if ("hello".equals(json.getString("type"))) {
            hello.tryComplete(json);
          } else {
            hello.tryFail("first message is not a hello: " + abbreviate(text));
          }
        } catch (RuntimeException notJson) {
          hello.tryFail("first message is not JSON: " + abbreviate(text));
        }
      });
      socket.exceptionHandler(hello::tryFail);
      socket.closeHandler(v -> {
        closedByPeer = true;
        hello.tryFail("closed before the hello (" + socket.closeStatusCode() + " " + socket.closeReason() + ")");
      });
    }

    /** Connects and completes with the hello, or fails within {@code timeout}. */
    Future<JsonObject> open(int port, Duration timeout) {
      Promise<JsonObject> result = Promise.promise();
      long timer = vertx.setTimer(timeout.toMillis(),
          id -> result.tryFail(new TimeoutException("no hello within " + timeout.toMillis() + "ms")));
      WebSocketConnectOptions options = new WebSocketConnectOptions()
          .setHost("127.0.0.1").setPort(port).setURI("/ws").setConnectTimeout(5000);
      startNanos = System.nanoTime();
      socket.connect(options)
          .compose(ws -> {
            upgradedNanos = System.nanoTime();
            connected = ws;
            token = ws.headers().get("Berth-Session");
            cookieSet = ws.headers().getAll("Set-Cookie").stream().anyMatch(c -> c.startsWith("berth_session="));
            return hello.future();
          })
          .onComplete(outcome -> {
            vertx.cancelTimer(timer);
            if (outcome.succeeded()) {
              result.tryComplete(outcome.result());
            } else {
              result.tryFail(outcome.cause());
            }
          });
      return result.future();
    }

    JsonObject hello() {
      return hello.future().result();
    }

    double upgradeMillis() {
      return (Math.min(upgradedNanos, helloNanos) - startNanos) / 1e6;
    }

    double helloMillis() {
      return (helloNanos - startNanos) / 1e6;
    }

    boolean isOpen() {
      WebSocket ws = connected;
      return ws != null && !ws.isClosed() && !closedByPeer;
    }

    Future<Void> close() {
      WebSocket ws = connected;
      Future<Void> closing = ws != null && !ws.isClosed() ? ws.close() : Future.succeededFuture();
      return closing.transform(ignored -> client.close());
    }
  }

  // ---- results ------------------------------------------------------------------------------

  record Sample(String label, int sessions, long heapUsedK, long heapTotalK, long liveBytes, long rssK,
      Map<String, long[]> histogram) {}

  record Cold(double upgradeMs, double helloMs, String key, String hostname, int connection, boolean cookie) {}

  // ---- state --------------------------------------------------------------------------------

  private final Options options;
  private final Path benchDir;
  private final Path gatewayLog;
  private final Path reportFile;
  private final ZonedDateTime startedAt = ZonedDateTime.now();
  private final long deadlineNanos;
  private final List<BenchClient> clients = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Long> runningMs = new ConcurrentHashMap<>();
  private final Map<String, Long> readyMs = new ConcurrentHashMap<>();
  private final Map<String, String> launchFailures = new ConcurrentHashMap<>();
  private final Set<String> sessionKeys = ConcurrentHashMap.newKeySet();
  private final AtomicInteger gatewayWarnings = new AtomicInteger();
  private final CompletableFuture<Integer> listening = new CompletableFuture<>();
  private final List<Cold> cold = new ArrayList<>();
  private final List<String> coldFailures = new ArrayList<>();
  private final List<Double> idleOpenMs = Collections.synchronizedList(new ArrayList<>());
  private final List<String> idleFailures = Collections.synchronizedList(new ArrayList<>());
  private final List<Sample> samples = new ArrayList<>();
  private final List<String> stopNotes = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Vertx vertx;
  private Process gateway;
  private Thread logPump;
  private String launcher = "?";
  private String engineVersion = "unreachable";
  private Set<String> containersBefore = Set.of();
  private double idleOpenSeconds = -1;
  private String loadBefore;
  private String loadAfter;
  private boolean cleanedUp;

  private ColdStartBenchmark(Options options) {
    this.options = options;
    this.benchDir = options.root().resolve("target").resolve("bench");
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    this.gatewayLog = benchDir.resolve("gateway-" + stamp + ".log");
    this.reportFile = benchDir.resolve("cold-start-" + stamp + ".md");
    this.deadlineNanos = System.nanoTime() + options.timeLimit().toNanos();
  }

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      throw e;
    }
    ColdStartBenchmark bench = new ColdStartBenchmark(options);
    Thread hook = new Thread(bench::cleanup, "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    Exception failure = null;
    try {
      bench.run();
    } catch (Exception e) {
      failure = e;
      progress("FAILED: " + e);
    } finally {
      bench.cleanup();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
    String report = bench.report(failure);
    System.out.println(report);
    Files.writeString(bench.reportFile, report);
    progress("report written to " + options.root().relativize(bench.reportFile));
    if (failure != null) {
      throw failure;
    }
  }

  // ---- the run ------------------------------------------------------------------------------

  private void run() throws Exception {
    Files.createDirectories(benchDir);
    loadBefore = loadAverage();
    containersBefore = listContainers().map(list -> {
      Set<String> ids = new HashSet<>();
      list.forEach(c -> ids.add(c.getId()));
      return ids;
    }).orElse(Set.of());
    if (!containersBefore.isEmpty()) {
      notes.add(containersBefore.size() + " container(s) labelled berth.route=" + ROUTE
          + " existed before the run; they are not counted and were left alone");
    }
    vertx = Vertx.vertx();
    int port = startGateway();
    progress("gateway pid " + gateway.pid() + " listening on port " + port + " (launcher " + launcher + ")");

    samples.add(sample("fresh gateway, no session yet", port));

    for (int i = 0; i < WARMUP_SESSIONS; i++) {
      BenchClient warm = new BenchClient(vertx);
      clients.add(warm);
      warm.open(port, SESSION_TIMEOUT).await(bounded(SESSION_TIMEOUT), TimeUnit.MILLISECONDS);
      progress("warm-up " + (i + 1) + "/" + WARMUP_SESSIONS + ": hello after " + Math.round(warm.helloMillis()) + "ms");
      warm.close().await(bounded(Duration.ofSeconds(10)), TimeUnit.MILLISECONDS);
      clients.remove(warm);
    }
    if (options.idle() > 0) {
      progress("waiting for the warm-up sessions' grace period to end (idleGrace 30s)");
      int left = awaitSessions(0, port);
      if (left != 0) {
        throw new IllegalStateException("the gateway still holds " + left + " session(s) " + GRACE_WAIT.toSeconds()
            + "s after the warm-up clients left");
      }
      samples.add(sample("warmed up, 0 sessions", port));
    }

    coldStarts(port);

    if (options.idle() > 0) {
      int expected = openClients();
      int held = awaitSessions(expected, port);
      samples.add(sample(held + " sessions (the cold starts, kept open)", port));
      openIdle(port);
      Thread.sleep(2000); // let the last hellos and first listing updates pass
      int open = openClients();
      samples.add(sample(health(port) + " idle sessions", port));
      if (open != options.idle()) {
        notes.add("only " + open + " of " + options.idle() + " idle clients were open at the last reading");
      }
    }
  }

  private int startGateway() throws Exception {
    Path jar = options.root().resolve(JAR);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build it with "
          + "mvn -q -B -DskipTests -Dberth.image.skip=true package (scripts/bench-cold-start.sh does)");
    }
    List<String> command = List.of(javaTool("java"), GATEWAY_HEAP, "-jar", JAR, "--config", CONFIG, "--port", "0");
    progress("starting " + String.join(" ", command) + " (log: " + options.root().relativize(gatewayLog) + ")");
    gateway = new ProcessBuilder(command).directory(options.root().toFile()).redirectErrorStream(true).start();
    Writer log = Files.newBufferedWriter(gatewayLog, StandardCharsets.UTF_8);
    logPump = new Thread(() -> pumpLog(log), "bench-gateway-log");
    logPump.setDaemon(true);
    logPump.start();
    try {
      return listening.get(bounded(LISTEN_TIMEOUT), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new TimeoutException("the gateway did not log its listening line within " + LISTEN_TIMEOUT.toSeconds()
          + "s; see " + gatewayLog);
    }
  }

  /** Copies the gateway's output to its log file and picks out the lines the report needs. */
  private void pumpLog(Writer log) {
    try (log; BufferedReader in = new BufferedReader(
        new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        log.write(line);
        log.write('\n');
        log.flush();
        scan(line);
      }
    } catch (IOException e) {
      listening.completeExceptionally(e);
    } finally {
      listening.completeExceptionally(new IllegalStateException(
          "the gateway exited before listening; see " + gatewayLog));
    }
  }

  private void scan(String line) {
    Matcher m;
    if (!listening.isDone() && (m = LISTENING.matcher(line)).find()) {
      if (m.group(3) != null) {
        launcher = m.group(3);
      }
      listening.complete(Integer.parseInt(m.group(2)));
    } else if ((m = RUNNING.matcher(line)).find()) {
      sessionKeys.add(m.group(1));
      runningMs.put(m.group(1), Long.parseLong(m.group(2)));
    } else if ((m = READY.matcher(line)).find()) {
      sessionKeys.add(m.group(1));
      readyMs.put(m.group(1), Long.parseLong(m.group(2)));
    } else if ((m = FAILED.matcher(line)).find()) {
      sessionKeys.add(m.group(1));
      launchFailures.put(m.group(1), m.group(2));
    }
    if (line.contains(" WARNING ") || line.contains(" SEVERE ")) {
      gatewayWarnings.incrementAndGet();
    }
  }

  private void coldStarts(int port) throws Exception {
    for (int i = 0; i < options.sessions(); i++) {
      if (i > 0 && options.pauseMs() > 0) {
        Thread.sleep(Math.min(options.pauseMs(), bounded(Duration.ofMillis(options.pauseMs()))));
      }
      BenchClient client = new BenchClient(vertx);
      clients.add(client);
      try {
        JsonObject hello = client.open(port, SESSION_TIMEOUT).await(bounded(SESSION_TIMEOUT), TimeUnit.MILLISECONDS);
        String key = hello.getString("session", "");
        sessionKeys.add(key);
        cold.add(new Cold(client.upgradeMillis(), client.helloMillis(), key, hello.getString("hostname"),
            hello.getInteger("connection", -1), client.token != null && client.cookieSet));
        progress("cold " + (i + 1) + "/" + options.sessions() + ": 101 after " + Math.round(client.upgradeMillis())
            + "ms, hello after " + Math.round(client.helloMillis()) + "ms");
      } catch (Exception e) {
        coldFailures.add("cold start " + (i + 1) + ": " + e);
        progress("cold " + (i + 1) + "/" + options.sessions() + " FAILED: " + e);
        clients.remove(client);
        client.close();
        if (coldFailures.size() > MAX_FAILURES) {
          throw new IllegalStateException(coldFailures.size() + " cold starts failed; first: " + coldFailures.get(0));
        }
      }
      checkDeadline("cold starts");
    }
  }

  private void openIdle(int port) throws Exception {
    int toOpen = options.idle() - openClients();
    progress("opening " + toOpen + " more idle sessions, " + options.concurrency() + " at a time");
    Semaphore slots = new Semaphore(options.concurrency());
    long begun = System.nanoTime();
    for (int i = 0; i < toOpen && idleFailures.size() <= MAX_FAILURES; i++) {
      if (!slots.tryAcquire(bounded(Duration.ofMinutes(10)), TimeUnit.MILLISECONDS)) {
        throw new TimeoutException("time limit reached while opening idle sessions");
      }
      BenchClient client = new BenchClient(vertx);
      clients.add(client);
      client.open(port, SESSION_TIMEOUT).onComplete(outcome -> {
        if (outcome.succeeded()) {
          idleOpenMs.add(client.helloMillis());
          sessionKeys.add(outcome.result().getString("session", ""));
        } else {
          idleFailures.add(String.valueOf(outcome.cause()));
          clients.remove(client);
          client.close();
        }
        slots.release();
      });
      if ((i + 1) % 20 == 0) {
        progress("idle: " + (i + 1) + "/" + toOpen + " requested");
      }
    }
    if (!slots.tryAcquire(options.concurrency(), bounded(SESSION_TIMEOUT.plusSeconds(5)), TimeUnit.MILLISECONDS)) {
      throw new TimeoutException("idle sessions still opening at the time limit");
    }
    idleOpenSeconds = (System.nanoTime() - begun) / 1e9;
    progress("idle: " + openClients() + " clients open after " + String.format(Locale.ROOT, "%.1f", idleOpenSeconds)
        + "s, " + idleFailures.size() + " failed");
    if (idleFailures.size() > MAX_FAILURES) {
      throw new IllegalStateException(idleFailures.size() + " idle sessions failed; first: " + idleFailures.get(0));
    }
  }

  // ---- measurements -------------------------------------------------------------------------

  private Sample sample(String label, int port) throws Exception {
    long pid = gateway.pid();
    jcmd(pid, "GC.run");
    Thread.sleep(1000);
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    long used = 0;
    long total = 0;
    for (String line : info.split("\n")) {
      Matcher m = HEAP_LINE.matcher(line);
      if (m.find()) {
        total += Long.parseLong(m.group(1));
        used += Long.parseLong(m.group(2));
      }
    }
    if (total == 0) {
      throw new IllegalStateException("cannot read the heap from jcmd GC.heap_info:\n" + info);
    }
    long rss = rssKilobytes(pid);
    Map<String, long[]> histogram = new HashMap<>();
    long live = -1;
    for (String line : jcmd(pid, "GC.class_histogram").split("\n")) { // another full GC: live objects only
      Matcher m = HISTO_LINE.matcher(line);
      if (m.find()) {
        histogram.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      } else if ((m = HISTO_TOTAL.matcher(line)).find()) {
        live = Long.parseLong(m.group(2));
      }
    }
    Sample sample = new Sample(label, health(port), used, total, live, rss, histogram);
    progress(String.format(Locale.ROOT, "memory, %s: heap used %.1f MiB (live %.1f MiB), RSS %.1f MiB, %d sessions",
        label, used / 1024.0, live / 1048576.0, rss / 1024.0, sample.sessions()));
    return sample;
  }

  private String jcmd(long pid, String command) throws Exception {
    Process p = new ProcessBuilder(javaTool("jcmd"), Long.toString(pid), command).redirectErrorStream(true).start();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    });
    if (!p.waitFor(bounded(Duration.ofSeconds(60)), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new TimeoutException("jcmd " + pid + " " + command + " did not finish");
    }
    String text = out.get(5, TimeUnit.SECONDS);
    if (p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + pid + " " + command + " failed (" + p.exitValue() + "): " + text);
    }
    return text;
  }

  private static long rssKilobytes(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private int health(int port) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET /health answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body()).getInteger("sessions");
  }

  /** Polls /health until it reports {@code expected} sessions or the grace wait is over; returns the last count. */
  private int awaitSessions(int expected, int port) throws Exception {
    long until = System.nanoTime() + Math.min(GRACE_WAIT.toNanos(), remainingNanos());
    int sessions = health(port);
    while (sessions != expected && System.nanoTime() < until) {
      Thread.sleep(500);
      sessions = health(port);
    }
    return sessions;
  }

  private int openClients() {
    synchronized (clients) {
      return (int) clients.stream().filter(BenchClient::isOpen).count();
    }
  }

  // ---- cleanup ------------------------------------------------------------------------------

  /** Closes every client, stops the gateway and removes what it left behind. Runs once. */
  private synchronized void cleanup() {
    if (cleanedUp) {
      return;
    }
    cleanedUp = true;
    List<BenchClient> all;
    synchronized (clients) {
      all = new ArrayList<>(clients);
      clients.clear();
    }
    if (!all.isEmpty() && vertx != null) {
      try {
        List<Future<Void>> closing = new ArrayList<>();
        all.forEach(c -> closing.add(c.close()));
        Future.join(closing).await(30, TimeUnit.SECONDS);
        stopNotes.add("closed " + all.size() + " client(s)");
      } catch (Exception e) {
        stopNotes.add("closing the clients did not finish cleanly: " + e);
      }
    }
    List<ProcessHandle> children = List.of();
    if (gateway != null) {
      children = gateway.descendants().toList(); // handler processes, should the process launcher be in use
      long begun = System.nanoTime();
      gateway.destroy(); // SIGTERM: the gateway ends its sessions and removes their containers
      try {
        if (gateway.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          stopNotes.add(String.format(Locale.ROOT, "gateway exited with status %d %.1fs after SIGTERM",
              gateway.exitValue(), (System.nanoTime() - begun) / 1e9));
        } else {
          gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          stopNotes.add("gateway did NOT exit within " + EXIT_TIMEOUT.toSeconds() + "s of SIGTERM; killed it (SIGKILL)");
        }
      } catch (InterruptedException e) {
        gateway.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      for (ProcessHandle child : children) {
        if (child.isAlive()) {
          child.destroyForcibly();
          stopNotes.add("killed leftover gateway child process " + child.pid());
        }
      }
      if (logPump != null) {
        try {
          logPump.join(5000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      removeLeftoverContainers();
    }
    if (vertx != null) {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // nothing left to do
      }
    }
    loadAfter = loadAverage();
  }

  /** Containers of this run's sessions that are still there after the gateway exited: remove them. */
  private void removeLeftoverContainers() {
    sessionKeys.remove(""); // a hello without a session field must not match unlabelled containers
    try (DockerClient docker = docker()) {
      List<Container> left = new ArrayList<>();
      List<Container> foreign = new ArrayList<>();
      for (Container c : docker.listContainersCmd().withShowAll(true)
          .withLabelFilter(Map.of("berth.route", ROUTE)).exec()) {
        if (containersBefore.contains(c.getId())) {
          continue;
        }
        String key = c.getLabels() == null ? "" : c.getLabels().getOrDefault("berth.session", "");
        (sessionKeys.contains(key) ? left : foreign).add(c);
      }
      if (left.isEmpty()) {
        stopNotes.add("no container of this run left (docker ps -a --filter label=berth.route=" + ROUTE + ")");
      } else {
        for (Container c : left) {
          try {
            docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
          } catch (NotFoundException gone) {
            // removed meanwhile
          }
        }
        stopNotes.add("**" + left.size() + " container(s) of this run were left after the gateway exited; the benchmark"
            + " removed them**: " + names(left));
      }
      if (!foreign.isEmpty()) {
        stopNotes.add(foreign.size() + " other container(s) with berth.route=" + ROUTE
            + " appeared during the run (not launched by this gateway; left alone): " + names(foreign));
      }
    } catch (Exception e) {
      stopNotes.add("could not check for leftover containers: " + e);
    }
  }

  private static String names(List<Container> containers) {
    List<String> names = new ArrayList<>();
    containers.forEach(c -> names.add(c.getNames() == null ? c.getId().substring(0, 12)
        : String.join(",", c.getNames()) + " (" + c.getState() + ")"));
    return String.join(" ", names);
  }

  private java.util.Optional<List<Container>> listContainers() {
    try (DockerClient docker = docker()) {
      engineVersion = docker.versionCmd().exec().getVersion();
      return java.util.Optional.of(docker.listContainersCmd().withShowAll(true)
          .withLabelFilter(Map.of("berth.route", ROUTE)).exec());
    } catch (Exception e) {
      notes.add("Docker engine not reachable before the run (" + e.getMessage() + ")");
      return java.util.Optional.empty();
    }
  }

  private static DockerClient docker() {
    DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder().build();
    return DockerClientImpl.getInstance(config, new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost())
        .connectionTimeout(Duration.ofSeconds(3))
        .responseTimeout(Duration.ofSeconds(30))
        .build());
  }

  // ---- report -------------------------------------------------------------------------------

  private String report(Exception failure) {
    StringBuilder r = new StringBuilder();
    r.append("# Berth cold-start and idle-memory benchmark\n\n");
    r.append("- Date: ").append(startedAt.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z"))).append('\n');
    r.append("- Machine: nproc ").append(Runtime.getRuntime().availableProcessors()).append(", ").append(cpuModel())
        .append(", ").append(memTotal()).append(", ").append(System.getProperty("os.name")).append(' ')
        .append(System.getProperty("os.version")).append('\n');
    r.append("- Load average (1/5/15 min): ").append(loadBefore).append(" before, ").append(loadAfter).append(" after\n");
    r.append("- Java: ").append(System.getProperty("java.vm.name")).append(' ')
        .append(System.getProperty("java.runtime.version")).append(" (gateway and benchmark)\n");
    r.append("- Docker engine: ").append(engineVersion).append("; gateway launcher: ").append(launcher).append('\n');
    r.append("- Gateway: `java ").append(GATEWAY_HEAP).append(" -jar ").append(JAR).append(" --config ").append(CONFIG)
        .append(" --port 0`, route `").append(ROUTE).append("`; log: `")
        .append(options.root().relativize(gatewayLog)).append("`\n");
    r.append("- Rerun: `").append(options.rerun()).append("`\n");
    if (failure != null) {
      r.append("\n**The run FAILED: ").append(failure).append("** (numbers below are what was measured before)\n");
    }

    r.append("\n## Cold start: ").append(cold.size()).append(" of ").append(options.sessions())
        .append(" sessions, one after another\n\n");
    r.append("Each from a new client without cookie, so each launched a new container; timed from just before")
        .append(" `connect` (").append(WARMUP_SESSIONS).append(" warm-up sessions before, not counted; ")
        .append(options.pauseMs()).append(" ms pause between sessions; earlier sessions stay open).\n\n");
    r.append("| ms | p50 | p95 | min | max |\n|---|---:|---:|---:|---:|\n");
    row(r, "connect → 101 (handshake done)", cold, Cold::upgradeMs);
    row(r, "connect → hello frame", cold, Cold::helloMs);
    List<Cold> logged = cold.stream().filter(c -> runningMs.containsKey(c.key()) && readyMs.containsKey(c.key())).toList();
    row(r, "gateway log: container running (create+start+inspect)", logged, c -> runningMs.get(c.key()));
    row(r, "gateway log: running → ready (/ready answered)", logged,
        c -> readyMs.get(c.key()) - runningMs.get(c.key()));
    row(r, "gateway log: launch total (\"ready in\")", logged, c -> readyMs.get(c.key()));
    row(r, "after launch: connect → 101 minus \"ready in\"", logged, c -> c.upgradeMs() - readyMs.get(c.key()));
    row(r, "101 → hello", cold, c -> c.helloMs() - c.upgradeMs());
    long fresh = cold.stream().filter(c -> c.connection() == 1).count();
    long hosts = cold.stream().map(Cold::hostname).distinct().count();
    long cookies = cold.stream().filter(Cold::cookie).count();
    r.append("\nChecks: ").append(fresh).append('/').append(cold.size()).append(" hellos say connection 1, ")
        .append(hosts).append(" distinct hostnames, ").append(cookies).append('/').append(cold.size())
        .append(" handshakes carried the Berth-Session header and berth_session cookie; ")
        .append(coldFailures.size()).append(" failed").append(coldFailures.isEmpty() ? "" : ": " + coldFailures)
        .append(".\n");

    if (options.idle() > 0) {
      r.append("\n## Idle memory: ").append(options.idle()).append(" idle sessions\n\n");
      r.append("Gateway heap after a full GC (`jcmd GC.run` twice, then `GC.heap_info`), live bytes from ")
          .append("`jcmd GC.class_histogram`, RSS from /proc/<pid>/status. Idle = websocket open, listing ")
          .append("updates flowing (2/s per session).\n\n");
      r.append("| point | sessions | heap used | live objects | heap committed | RSS |\n|---|---:|---:|---:|---:|---:|\n");
      for (Sample s : samples) {
        r.append(String.format(Locale.ROOT, "| %s | %d | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |%n", s.label(),
            s.sessions(), s.heapUsedK() / 1024.0, s.liveBytes() / 1048576.0, s.heapTotalK() / 1024.0, s.rssK() / 1024.0));
      }
      Sample base = find("warmed up");
      Sample full = samples.size() >= 4 ? samples.get(samples.size() - 1) : null;
      Sample mid = samples.size() >= 4 ? samples.get(samples.size() - 2) : null;
      if (base != null && full != null && full.sessions() > 0) {
        int n = full.sessions() - base.sessions();
        r.append(String.format(Locale.ROOT, "%nPer session (0 → %d): heap used **%.1f KiB**, live objects %.1f KiB, RSS %.1f KiB.%n",
            full.sessions(), (full.heapUsedK() - base.heapUsedK()) / (double) n,
            (full.liveBytes() - base.liveBytes()) / 1024.0 / n, (full.rssK() - base.rssK()) / (double) n));
        if (mid != null && full.sessions() > mid.sessions()) {
          int m = full.sessions() - mid.sessions();
          r.append(String.format(Locale.ROOT, "Marginal (%d → %d): heap used %.1f KiB, live objects %.1f KiB, RSS %.1f KiB.%n",
              mid.sessions(), full.sessions(), (full.heapUsedK() - mid.heapUsedK()) / (double) m,
              (full.liveBytes() - mid.liveBytes()) / 1024.0 / m, (full.rssK() - mid.rssK()) / (double) m));
        }
        Sample fresh0 = find("fresh");
        if (fresh0 != null) {
          r.append(String.format(Locale.ROOT, "The warm-up itself left %.1f MiB more live heap than the fresh gateway"
              + " (classes, pools, caches: one-time, not per session).%n",
              (base.liveBytes() - fresh0.liveBytes()) / 1048576.0));
        }
        r.append("\nLive bytes that grew most from 0 to ").append(full.sessions()).append(" sessions:\n\n");
        r.append("| class | bytes per session | objects per session |\n|---|---:|---:|\n");
        growth(base, full).stream().limit(10).forEach(e -> r.append(String.format(Locale.ROOT, "| `%s` | %.0f | %.1f |%n",
            e.getKey(), e.getValue()[1] / (double) n, e.getValue()[0] / (double) n)));
      }
      if (idleOpenSeconds >= 0) {
        List<Double> times;
        synchronized (idleOpenMs) {
          times = new ArrayList<>(idleOpenMs);
        }
        r.append(String.format(Locale.ROOT, "%nThe %d sessions after the cold starts opened in %.1f s, %d at a time: "
            + "connect → hello p50 %s ms, p95 %s ms; %d failed%s.%n", times.size(), idleOpenSeconds,
            options.concurrency(), pct(times, 50), pct(times, 95), idleFailures.size(),
            idleFailures.isEmpty() ? "" : " (first: " + idleFailures.get(0) + ")"));
      }
    }

    r.append("\n## Stop\n\n");
    stopNotes.forEach(n -> r.append("- ").append(n).append('\n'));
    r.append("- gateway log: ").append(gatewayWarnings.get()).append(" WARNING/SEVERE line(s), ")
        .append(launchFailures.size()).append(" failed launch(es)").append(launchFailures.isEmpty() ? "" : " " + launchFailures)
        .append('\n');
    notes.forEach(n -> r.append("- ").append(n).append('\n'));
    return r.toString();
  }

  private Sample find(String labelPrefix) {
    return samples.stream().filter(s -> s.label().startsWith(labelPrefix)).findFirst().orElse(null);
  }

  private static List<Map.Entry<String, long[]>> growth(Sample from, Sample to) {
    Map<String, long[]> diff = new LinkedHashMap<>();
    to.histogram().forEach((cls, v) -> {
      long[] before = from.histogram().getOrDefault(cls, new long[2]);
      diff.put(cls, new long[] {v[0] - before[0], v[1] - before[1]});
    });
    List<Map.Entry<String, long[]>> entries = new ArrayList<>(diff.entrySet());
    entries.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
    return entries;
  }

  private static <T> void row(StringBuilder r, String label, List<T> items, ToDoubleFunction<T> value) {
    List<Double> values = items.stream().map(value::applyAsDouble).toList();
    r.append("| ").append(label).append(" | ").append(pct(values, 50)).append(" | ").append(pct(values, 95))
        .append(" | ").append(pct(values, 0)).append(" | ").append(pct(values, 100)).append(" |\n");
  }

  /** Nearest-rank percentile, whole milliseconds; p=0 is the minimum. */
  static String pct(List<Double> values, int p) {
    if (values.isEmpty()) {
      return "–";
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int rank = Math.max(1, (int) Math.ceil(p / 100.0 * sorted.length));
    return Long.toString(Math.round(sorted[rank - 1]));
  }

  // ---- small helpers ------------------------------------------------------------------------

  private long remainingNanos() {
    return deadlineNanos - System.nanoTime();
  }

  /** {@code wanted} in milliseconds, cut to the run's time limit; fails once that is reached. */
  private long bounded(Duration wanted) throws TimeoutException {
    checkDeadline("the run");
    return Math.max(1, Math.min(wanted.toMillis(), remainingNanos() / 1_000_000));
  }

  private void checkDeadline(String what) throws TimeoutException {
    if (remainingNanos() <= 0) {
      throw new TimeoutException("time limit of " + options.timeLimit().toSeconds() + "s reached during " + what);
    }
  }

  private static String javaTool(String name) {
    Path tool = Path.of(System.getProperty("java.home"), "bin", name);
    return Files.isExecutable(tool) ? tool.toString() : name;
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return String.join(" ", Arrays.copyOf(parts, 3));
    } catch (IOException e) {
      return "?";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
    } catch (IOException e) {
      return "unknown CPU";
    }
  }

  private static String memTotal() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
          .map(l -> String.format(Locale.ROOT, "%.1f GiB RAM", Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0))
          .findFirst().orElse("? RAM");
    } catch (IOException e) {
      return "? RAM";
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 120 ? text : text.substring(0, 120) + "…";
  }

  private static void progress(String message) {
    System.err.println("bench: " + message);
  }
}
