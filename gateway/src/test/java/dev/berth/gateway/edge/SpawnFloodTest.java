package dev.berth.gateway.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.RawWebSocket;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Tag;

/**
 * A spawn flood from one address is held by admission and other clients keep being served: their
 * p99 round trip under the flood stays within {@value #FLOOD_P99_BOUND}x of the quiet value (the
 * target is 2x; the bound leaves CI room for this shared 2-core machine's noise, and the measured
 * ratio is printed and reported in docs/security.md). Five victim sessions (127.0.0.2 to .6, one
 * each) exchange 64-byte echoes in a closed loop (with 1 ms between round trips, so the victims do
 * not saturate the machine themselves) for three seconds with nothing else going on, then for as
 * long again while one address (127.0.0.9) opens {@value #DEFAULT_FLOOD_RATE} websocket upgrades a
 * second from several threads, in bursts, closing each (half of them before the answer, as an
 * impatient attacker would). That is a thousand times the new sessions its address may open; the
 * admission limits bound what the flood costs: the flooder is refused with 429 before anything is
 * launched for it, and it gets at most its share of backends. Before measuring, a warm-up runs the
 * same flood: it compiles the refusal path and lets the flooder take the sessions its address is
 * allowed (as any client may), so what is measured is the flood admission refuses. The quiet and
 * flooded phases run three times and the round with the median ratio is judged (every round is
 * printed); the warm-up floods for ten seconds, as each event loop compiles its own share of the
 * refusal path and a shorter one left the first rounds measuring the JIT.
 *
 * <p>Backends are in-JVM echoes with fast launches ({@link FakeLauncher}), so this runs in CI in
 * about 25 seconds. The numbers, p99 per second of the flood and CPU use (this JVM, the machine,
 * the gateway's event loop, the flooder) are printed for the surefire report. Knobs for
 * investigation: {@code -Dberth.flood.threads=N} (3), {@code -Dberth.flood.rate=PER_SECOND}
 * ({@value #DEFAULT_FLOOD_RATE}; 0: as fast as the threads can, which saturates both cores of this
 * machine with the flooder's own work), {@code -Dberth.flood.thinkMs=MS} (1).
 *
 * <p>Note: the flooder runs on the same machine (2 cores in CI) as the gateway and the victims;
 * its own client-side CPU competes with them, which a remote attacker's would not.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@Tag("slow")
class SpawnFloodTest {

  private static final int VICTIMS = 5;
  private static final int QUIET_ECHOES = 300;
  private static final int WARMUP_ECHOES = 1000;
  private static final int PAYLOAD = 64;
  private static final int FLOOD_THREADS = Integer.getInteger("berth.flood.threads", 3);
  /** Upgrade attempts per second over all flooder threads; 0 (the default): as fast as they can. */
  private static final int FLOOD_RATE = Integer.getInteger("berth.flood.rate", 1000);
  private static final int THINK_MS = Integer.getInteger("berth.flood.thinkMs", 1);
  private static final long FLOOD_MS = 3000;
  /** Long enough for every event loop to compile its share of the refusal path. */
  private static final long WARMUP_FLOOD_MS = 10_000;
  private static final int ROUNDS = 3;
  private static final int FLOOD_MAX_ATTEMPTS = 20_000;
  private static final int PER_CLIENT_MAX_SESSIONS = 20;
  private static final int NEW_PER_MINUTE = 60;
  private static final String FLOODER = "127.0.0.9";
  /** The target is 2; the median round measured 1.4 to 1.7 here (docs/security.md), so 3 fails a real regression, not noise. */
  private static final double FLOOD_P99_BOUND = 3.0;

  private FakeLauncher launcher;
  private TestGateway gateway;
  private final List<RawWebSocket> victims = new ArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    launcher = new FakeLauncher(vertx, Duration.ofMillis(20));
    gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
        .maxSessions(200) // the route's own limit is not what this test is about
        .sessions("perClient: {maxSessions: " + PER_CLIENT_MAX_SESSIONS + ", newPerMinute: " + NEW_PER_MINUTE + "}, "
            + "launches: {maxConcurrent: 4, queue: 8}")
        .start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    for (RawWebSocket victim : victims) {
      victim.close();
    }
    gateway.close();
    assertEquals(0, launcher.running(), "backends left running");
  }

  @Test
  void aSpawnFloodFromOneAddressIsHeldByAdmissionWhileOtherClientsKeepBeingServed() throws Exception {
    for (int i = 0; i < VICTIMS; i++) {
      RawWebSocket victim = RawWebSocket.open(InetAddress.getByName("127.0.0." + (2 + i)), gateway.port, "/ws", Map.of());
      assertEquals(101, victim.status, "victim " + i + " admitted");
      assertTrue(victim.nextIgnoringPings().text().contains("\"hello\""), "victim " + i + " got its backend's hello");
      victims.add(victim);
    }
    // Warm-up, not measured: JIT, connections, and the flooder's first flood, which takes the
    // sessions its address is allowed (perClient.maxSessions, as any client may), so what is
    // measured below is the flood admission refuses.
    Flood warmup = new Flood(gateway.port, WARMUP_FLOOD_MS);
    warmup.start();
    runVictims(WARMUP_ECHOES, warmup.running);
    warmup.join();
    Map<String, Long> refusalsBeforeFlood = refusalsByReason();
    // Quiet then flooded, three times over: the machine's own noise comes and goes, so the round
    // with the median ratio is the one judged (and every round is printed).
    List<Round> rounds = new ArrayList<>();
    for (int r = 0; r < ROUNDS; r++) {
      rounds.add(measureRound());
    }
    rounds.forEach(round -> System.out.printf("SpawnFloodTest: round ratio %.2f (quiet p99 %.3f ms, flood p99 %.3f ms)%n",
        round.ratio(), percentileMs(round.quiet(), 0.99), percentileMs(round.flooded().rtt(), 0.99)));
    Round median = rounds.stream().sorted(java.util.Comparator.comparingDouble(Round::ratio)).toList().get(ROUNDS / 2);
    long[] quiet = median.quiet();
    String quietCpu = median.quietCpu();
    Flood flood = median.flood();
    Samples floodSamples = median.flooded();
    long[] flooded = floodSamples.rtt();
    String floodCpu = median.floodCpu();
    int attempts = Math.min(rounds.stream().mapToInt(round -> round.flood().attempts.get()).sum(), FLOOD_MAX_ATTEMPTS);

    Map<String, Long> refusals = refusalsByReason();
    refusalsBeforeFlood.forEach((reason, count) -> refusals.merge(reason, -count, Long::sum));
    long refused429 = refusals.getOrDefault("client_session_limit", 0L) + refusals.getOrDefault("client_rate_limit", 0L);
    long refused503 = refusals.getOrDefault("launch_queue_full", 0L) + refusals.getOrDefault("capacity", 0L)
        + refusals.getOrDefault("gateway_full", 0L);
    int flooderLaunches = launcher.launches.get() - VICTIMS;
    // On a 2-core CI machine a quiet p99 well under a millisecond is scheduling noise, not a budget:
    // the ratio is taken against at least 1 ms, so a 0.3 ms quiet p99 does not make 0.7 ms a failure.
    double quietP99 = percentileMs(quiet, 0.99);
    double floodP99 = percentileMs(flooded, 0.99);
    double ratio = median.ratio();
    System.out.printf(
        "SpawnFloodTest: quiet p50 %.3f ms p99 %.3f ms (%d round trips); flood p50 %.3f ms p99 %.3f ms (%d round trips);"
            + " ratio %.2f (flood p99 / max(quiet p99, 1 ms)); max during flood %.3f ms%n",
        percentileMs(quiet, 0.50), quietP99, quiet.length, percentileMs(flooded, 0.50), floodP99, flooded.length, ratio,
        percentileMs(flooded, 1.0));
    System.out.println("SpawnFloodTest: p99 per second of the flood (round trips): " + p99PerSecond(floodSamples, flood.begun));
    System.out.println("SpawnFloodTest: CPU, as a share of one core: quiet " + quietCpu + "; flood " + floodCpu
        + " flooder threads " + flood.cpuNanos.get() * 100 / Math.max(1, flood.tookMs * 1_000_000) + "%");
    System.out.printf("SpawnFloodTest: flood from %s, %d threads, %d ms: %d upgrade attempts, answers seen %s, "
            + "%d left before the answer, %d failed to connect%n",
        FLOODER, FLOOD_THREADS, flood.tookMs, attempts, new TreeMap<>(flood.statuses), flood.abandoned.get(),
        flood.connectFailures.get());
    System.out.printf("SpawnFloodTest: refusals in /metrics %s (429: %d, 503: %d); launches for the flooder %d "
            + "(bound %d = perClient.maxSessions + newPerMinute), sessions after %s%n",
        refusals, refused429, refused503, flooderLaunches, PER_CLIENT_MAX_SESSIONS + NEW_PER_MINUTE, gateway.get("/health"));

    assertTrue(attempts > 100, "the flood got going: " + attempts + " attempts");
    assertTrue(refused429 > 0, "the flooder was refused with 429: " + refusals);
    assertTrue(flood.statuses.getOrDefault(429, new AtomicInteger()).get() > 0, "the flooder saw 429s: " + flood.statuses);
    int seen = rounds.stream().mapToInt(round -> round.flood().statuses.getOrDefault(429, new AtomicInteger()).get()
        + round.flood().statuses.getOrDefault(503, new AtomicInteger()).get()).sum();
    assertTrue(refused429 + refused503 >= seen, "every refusal the flooder saw is counted in /metrics");
    assertTrue(flooderLaunches <= PER_CLIENT_MAX_SESSIONS + NEW_PER_MINUTE,
        "the flooder cost at most perClient.maxSessions + a minute's worth of new sessions: " + flooderLaunches);
    assertTrue(ratio <= FLOOD_P99_BOUND, String.format("flood p99 %.3f ms against quiet p99 %.3f ms: the flood slowed the"
        + " other clients %.2fx (bound %.1fx)", floodP99, quietP99, ratio, FLOOD_P99_BOUND));
  }

  /** One quiet phase and one flooded phase, back to back. */
  private record Round(long[] quiet, String quietCpu, Flood flood, Samples flooded, String floodCpu) {
    /** Flood p99 over quiet p99, the quiet one taken as at least 1 ms (below it is scheduling noise). */
    double ratio() {
      return percentileMs(flooded.rtt(), 0.99) / Math.max(percentileMs(quiet, 0.99), 1.0);
    }
  }

  /** Every victim in a closed loop for the flood's duration (at least 300 each), quiet and then flooded. */
  private Round measureRound() throws Exception {
    AtomicBoolean quietPhase = new AtomicBoolean(true);
    Thread quietClock = new Thread(() -> {
      try {
        Thread.sleep(FLOOD_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      quietPhase.set(false);
    }, "quiet-clock");
    quietClock.start();
    Map<String, Long> cpuBefore = cpuByThreadGroup();
    long quietBegun = System.nanoTime();
    long[] quiet = runVictims(QUIET_ECHOES, quietPhase).rtt();
    String quietCpu = cpuShare(cpuBefore, cpuByThreadGroup(), System.nanoTime() - quietBegun);

    Flood flood = new Flood(gateway.port, FLOOD_MS);
    cpuBefore = cpuByThreadGroup();
    flood.start();
    flood.started.await(10, TimeUnit.SECONDS);
    Samples flooded = runVictims(QUIET_ECHOES, flood.running);
    flood.join();
    return new Round(quiet, quietCpu, flood, flooded, cpuShare(cpuBefore, cpuByThreadGroup(), System.nanoTime() - flood.begun));
  }

  /** Round trips in nanoseconds, and when each began (nanoTime). */
  private record Samples(long[] rtt, long[] at) {}

  /**
   * Every victim exchanges at least {@code count} echoes in a closed loop, and goes on while
   * {@code until} is set.
   */
  private Samples runVictims(int count, AtomicBoolean until) throws Exception {
    Samples[] each = new Samples[VICTIMS];
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int i = 0; i < VICTIMS; i++) {
      int number = i;
      Thread thread = new Thread(() -> {
        try {
          each[number] = echoes(victims.get(number), number, count, until);
        } catch (Throwable e) {
          failures.add(e);
        }
      }, "victim-" + i);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(60_000);
    }
    assertTrue(failures.isEmpty(), "victims failed: " + failures);
    return new Samples(Arrays.stream(each).flatMapToLong(samples -> Arrays.stream(samples.rtt())).toArray(),
        Arrays.stream(each).flatMapToLong(samples -> Arrays.stream(samples.at())).toArray());
  }

  private static Samples echoes(RawWebSocket victim, int number, int count, AtomicBoolean until) throws IOException {
    Random random = new Random(number);
    long[] times = new long[count];
    long[] at = new long[count];
    int done = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while ((done < count || until != null && until.get()) && System.nanoTime() < deadline) {
      byte[] payload = new byte[PAYLOAD];
      random.nextBytes(payload);
      long begun = System.nanoTime();
      victim.send(true, RawWebSocket.BINARY, payload);
      RawWebSocket.Frame echo = victim.nextIgnoringPings();
      long took = System.nanoTime() - begun;
      assertNotNull(echo, "victim " + number + " got no echo");
      assertArrayEquals(payload, echo.payload(), "victim " + number + " got its echo intact");
      if (done == times.length) {
        times = Arrays.copyOf(times, times.length * 2);
        at = Arrays.copyOf(at, at.length * 2);
      }
      at[done] = begun;
      times[done++] = took;
      if (THINK_MS > 0) {
        try {
          Thread.sleep(THINK_MS); // a client that talks, not one that saturates the machine by itself
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    return new Samples(Arrays.copyOf(times, done), Arrays.copyOf(at, done));
  }

  /** p99 per second of the phase that began at {@code begun}, e.g. "0s:40.1 1s:3.2 ...". */
  private static String p99PerSecond(Samples samples, long begun) {
    Map<Long, List<Long>> bySecond = new TreeMap<>();
    for (int i = 0; i < samples.rtt().length; i++) {
      bySecond.computeIfAbsent((samples.at()[i] - begun) / 1_000_000_000L, key -> new ArrayList<>()).add(samples.rtt()[i]);
    }
    StringBuilder out = new StringBuilder();
    bySecond.forEach((second, rtts) -> out.append(second).append("s:").append(String.format("%.1f",
        percentileMs(rtts.stream().mapToLong(Long::longValue).toArray(), 0.99))).append("ms(").append(rtts.size())
        .append(") "));
    return out.toString().trim();
  }

  /** CPU time (ns) of the live threads of this JVM, by kind: event loops (gateway and backends), flooder, victims, other. */
  private static Map<String, Long> cpuByThreadGroup() {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, Long> byGroup = new TreeMap<>();
    for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      long cpu = threads.getThreadCpuTime(info.getThreadId());
      String name = info.getThreadName();
      String group = name.startsWith("vert.x-eventloop") ? name.replace("vert.x-eventloop-thread-", "eventloop-")
          : name.startsWith("flood") ? "flooder" : name.startsWith("victim") ? "victims" : "other";
      byGroup.merge(group, Math.max(0, cpu), Long::sum);
    }
    byGroup.put("process", processCpuNanos());
    long[] machine = machineCpu();
    byGroup.put("machineBusy", machine[0]);
    byGroup.put("machineTotal", machine[1]);
    return byGroup;
  }

  /** Busy and total jiffies of the whole machine (/proc/stat), or zeros where there is none. */
  private static long[] machineCpu() {
    try {
      String[] fields = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < fields.length; i++) {
        total += Long.parseLong(fields[i]);
      }
      long idle = Long.parseLong(fields[4]) + Long.parseLong(fields[5]);
      return new long[] {total - idle, total};
    } catch (Exception e) {
      return new long[] {0, 0};
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static String cpuShare(Map<String, Long> before, Map<String, Long> after, long wallNanos) {
    StringBuilder out = new StringBuilder();
    out.append("this JVM ").append((processCpuNanos() - before.get("process")) * 100 / wallNanos).append("%, ");
    long[] machine = machineCpu();
    if (machine[1] > before.get("machineTotal")) {
      out.append("machine busy ").append((machine[0] - before.get("machineBusy")) * 100 / (machine[1] - before.get("machineTotal")))
          .append("% of ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ");
    }
    after.forEach((group, cpu) -> {
      if (group.equals("process") || group.startsWith("machine")) {
        return;
      }
      long used = cpu - before.getOrDefault(group, 0L);
      if (used * 100 / wallNanos >= 1) {
        out.append(group).append(' ').append(used * 100 / wallNanos).append("% ");
      }
    });
    return out.toString().trim();
  }

  private static double percentileMs(long[] nanos, double quantile) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(quantile * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
  }

  private Map<String, Long> refusalsByReason() {
    Map<String, Long> byReason = new TreeMap<>();
    Matcher line = Pattern.compile("berth_refusals_total\\{reason=\"([a-z_]+)\",route=\"" + Pattern.quote(gateway.route)
        + "\"} ([0-9.E]+)").matcher(gateway.get("/metrics"));
    while (line.find()) {
      long count = (long) Double.parseDouble(line.group(2));
      if (count > 0) {
        byReason.put(line.group(1), count);
      }
    }
    return byReason;
  }

  /**
   * One address opening websocket upgrades from several threads, bounded in time and count: each
   * thread opens a burst of connections, sends every upgrade request, then reads the answer on half
   * of them and closes them all (with a reset, so no TIME_WAIT uses up the ports).
   */
  private static final class Flood {
    final int port;
    final AtomicBoolean running = new AtomicBoolean(true);
    final CountDownLatch started = new CountDownLatch(FLOOD_THREADS);
    final AtomicInteger attempts = new AtomicInteger();
    final AtomicInteger abandoned = new AtomicInteger();
    final AtomicInteger connectFailures = new AtomicInteger();
    final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    final List<Thread> threads = new ArrayList<>();
    final AtomicLong cpuNanos = new AtomicLong();
    final long durationMs;
    long begun;
    long tookMs;

    Flood(int port, long durationMs) {
      this.port = port;
      this.durationMs = durationMs;
    }

    void start() {
      begun = System.nanoTime();
      long deadline = begun + TimeUnit.MILLISECONDS.toNanos(durationMs);
      for (int i = 0; i < FLOOD_THREADS; i++) {
        Random random = new Random(i);
        Thread thread = new Thread(() -> {
          started.countDown();
          long mine = 0;
          while (System.nanoTime() < deadline && attempts.get() < FLOOD_MAX_ATTEMPTS) {
            int size = 1 + random.nextInt(16);
            burst(random, size);
            mine += size;
            if (FLOOD_RATE > 0) { // paced: this thread's share of the rate
              long due = begun + mine * 1_000_000_000L * FLOOD_THREADS / FLOOD_RATE;
              long ahead = due - System.nanoTime();
              if (ahead > 0) {
                try {
                  Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
                } catch (InterruptedException e) {
                  break;
                }
              }
            }
          }
          cpuNanos.addAndGet(java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
        }, "flood-" + i);
        threads.add(thread);
        thread.start();
      }
      List<Thread> flooders = List.copyOf(threads);
      Thread watcher = new Thread(() -> {
        for (Thread thread : flooders) {
          try {
            thread.join(durationMs + 30_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        tookMs = (System.nanoTime() - begun) / 1_000_000;
        running.set(false);
      }, "flood-watcher");
      threads.add(watcher);
      watcher.start();
    }

    void join() throws InterruptedException {
      for (Thread thread : threads) {
        thread.join(durationMs + 60_000);
      }
    }

    private void burst(Random random, int size) {
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < size && attempts.incrementAndGet() <= FLOOD_MAX_ATTEMPTS; i++) {
          Socket socket = new Socket();
          sockets.add(socket);
          try {
            socket.setSoLinger(true, 0);
            socket.bind(new InetSocketAddress(InetAddress.getByName(FLOODER), 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
          } catch (IOException e) {
            connectFailures.incrementAndGet();
          }
        }
        for (Socket socket : sockets) {
          if (!socket.isConnected() || socket.isClosed()) {
            continue;
          }
          if (random.nextBoolean()) {
            abandoned.incrementAndGet(); // leaves before the answer: a session being launched is abandoned
            close(socket);
            continue;
          }
          statuses.computeIfAbsent(status(socket), key -> new AtomicInteger()).incrementAndGet();
        }
      } finally {
        sockets.forEach(Flood::close);
      }
    }

    private static int status(Socket socket) {
      try {
        InputStream in = socket.getInputStream();
        byte[] head = new byte[12];
        int read = 0;
        while (read < head.length) {
          int n = in.read(head, read, head.length - read);
          if (n < 0) {
            break;
          }
          read += n;
        }
        return read == head.length ? Integer.parseInt(new String(head, 9, 3, StandardCharsets.US_ASCII)) : -1;
      } catch (IOException | NumberFormatException e) {
        return -1;
      }
    }

    private static void close(Socket socket) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // gone already
      }
    }
  }
}
