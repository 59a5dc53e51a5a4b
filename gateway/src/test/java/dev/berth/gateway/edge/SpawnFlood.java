package dev.berth.gateway.edge;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

/**
 * One address opening websocket upgrades from several threads, bounded in time and in count: each
 * thread opens a burst of 1 to 16 connections, sends every upgrade request, then reads the answer
 * on half of them and closes them all (with a reset, so no TIME_WAIT uses up the ports); the other
 * half it leaves before the answer, as an impatient attacker would, abandoning whatever was being
 * launched. Used by {@link SpawnFloodTest} (admission) and {@code bench.FloodBenchmark} (what the
 * flood costs other clients).
 */
public final class SpawnFlood {

    /** Who floods, how hard and for how long; {@code perSecond} 0 is as fast as the threads can. */
    public record Plan(InetAddress from, int port, int threads, int perSecond, long durationMs, int maxAttempts) {}

    private final Plan plan;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final CountDownLatch started;
    private final AtomicInteger attempts = new AtomicInteger();
    private final AtomicInteger abandoned = new AtomicInteger();
    private final AtomicInteger connectFailures = new AtomicInteger();
    private final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong cpuNanos = new AtomicLong();
    private volatile long begun;
    private volatile long tookMs;

    private SpawnFlood(Plan plan) {
        this.plan = plan;
        this.started = new CountDownLatch(plan.threads());
    }

    /** Starts the flood's threads and returns once every one of them is going. */
    public static SpawnFlood start(Plan plan) throws InterruptedException {
        SpawnFlood flood = new SpawnFlood(plan);
        flood.begin();
        if (!flood.started.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the flood's threads did not start within 10 s");
        }
        return flood;
    }

    /** Set while the flood goes on: clients measured alongside it loop on this. */
    public AtomicBoolean running() {
        return running;
    }

    /** Waits for the flood's end (its duration, plus the time its last burst takes to be answered). */
    public void join() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join(plan.durationMs() + 60_000);
            if (thread.isAlive()) {
                throw new IllegalStateException(
                        thread.getName() + " still running " + (plan.durationMs() + 60_000) + " ms on");
            }
        }
    }

    public int attempts() {
        return Math.min(attempts.get(), plan.maxAttempts());
    }

    /** Upgrade attempts left before their answer. */
    public int abandoned() {
        return abandoned.get();
    }

    public int connectFailures() {
        return connectFailures.get();
    }

    /** HTTP status of each answer read (-1: none), by status. */
    public Map<Integer, Integer> statuses() {
        Map<Integer, Integer> byStatus = new TreeMap<>();
        statuses.forEach((status, count) -> byStatus.put(status, count.get()));
        return byStatus;
    }

    public int answered(int status) {
        return statuses().getOrDefault(status, 0);
    }

    /** nanoTime at the start. */
    public long begun() {
        return begun;
    }

    public long tookMs() {
        return tookMs;
    }

    /** CPU the flooder's threads used, in nanoseconds. */
    public long cpuNanos() {
        return cpuNanos.get();
    }

    private void begin() {
        begun = System.nanoTime();
        long deadline = begun + TimeUnit.MILLISECONDS.toNanos(plan.durationMs());
        for (int i = 0; i < plan.threads(); i++) {
            Random random = new Random(i);
            Thread thread = new Thread(
                    () -> {
                        started.countDown();
                        long mine = 0;
                        while (System.nanoTime() < deadline && attempts.get() < plan.maxAttempts()) {
                            int size = 1 + random.nextInt(16);
                            burst(random, size);
                            mine += size;
                            if (plan.perSecond() > 0
                                    && !paceTo(begun + mine * 1_000_000_000L * plan.threads() / plan.perSecond())) {
                                break;
                            }
                        }
                        cpuNanos.addAndGet(ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
                    },
                    "flood-" + i);
            threads.add(thread);
            thread.start();
        }
        List<Thread> flooders = List.copyOf(threads);
        Thread watcher = new Thread(
                () -> {
                    for (Thread thread : flooders) {
                        try {
                            thread.join(plan.durationMs() + 30_000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    tookMs = (System.nanoTime() - begun) / 1_000_000;
                    running.set(false);
                },
                "flood-watcher");
        threads.add(watcher);
        watcher.start();
    }

    /** Sleeps until {@code due} (nanoTime); false when interrupted. */
    private static boolean paceTo(long due) {
        long ahead = due - System.nanoTime();
        if (ahead <= 0) {
            return true;
        }
        try {
            Thread.sleep(ahead / 1_000_000, (int) (ahead % 1_000_000));
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private void burst(Random random, int size) {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < size && attempts.incrementAndGet() <= plan.maxAttempts(); i++) {
                Socket socket = new Socket();
                sockets.add(socket);
                try {
                    socket.setSoLinger(true, 0);
                    socket.bind(new InetSocketAddress(plan.from(), 0));
                    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), plan.port()), 2000);
                    socket.setSoTimeout(5000);
                    socket.getOutputStream()
                            .write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + plan.port() + "\r\nUpgrade: websocket\r\n"
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
                    abandoned.incrementAndGet();
                    close(socket);
                    continue;
                }
                statuses.computeIfAbsent(status(socket), key -> new AtomicInteger())
                        .incrementAndGet();
            }
        } finally {
            sockets.forEach(SpawnFlood::close);
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
