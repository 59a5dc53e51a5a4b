package dev.berth.gateway.edge;

import dev.berth.gateway.RawWebSocket;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The clients a spawn flood must not disturb: one session each from its own address (127.0.0.2
 * and up), exchanging 64-byte binary echoes in a closed loop with a pause between round trips, so
 * they talk without saturating the machine themselves. Every echo is checked byte for byte.
 */
public final class FloodVictims implements AutoCloseable {

    private static final int PAYLOAD = 64;
    private static final long LOOP_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** Round trips in nanoseconds, and when each began (nanoTime). */
    public record Samples(long[] rtt, long[] at) {}

    private final List<RawWebSocket> sockets;
    private final int thinkMs;

    private FloodVictims(List<RawWebSocket> sockets, int thinkMs) {
        this.sockets = sockets;
        this.thinkMs = thinkMs;
    }

    /** Opens {@code count} sessions on the gateway at {@code port}; each must be admitted and get its hello. */
    public static FloodVictims open(int port, int count, int thinkMs) throws IOException {
        List<RawWebSocket> sockets = new ArrayList<>();
        FloodVictims victims = new FloodVictims(sockets, thinkMs);
        try {
            for (int i = 0; i < count; i++) {
                RawWebSocket victim =
                        RawWebSocket.open(InetAddress.getByName("127.0.0." + (2 + i)), port, "/ws", Map.of());
                sockets.add(victim);
                if (victim.status != 101) {
                    throw new IllegalStateException(
                            "victim " + i + " was answered " + victim.status + ", not admitted");
                }
                RawWebSocket.Frame hello = victim.nextIgnoringPings();
                if (hello == null || !hello.text().contains("\"hello\"")) {
                    throw new IllegalStateException("victim " + i + " got no hello from its backend: " + hello);
                }
            }
            return victims;
        } catch (IOException | RuntimeException e) {
            victims.close();
            throw e;
        }
    }

    /**
     * Every victim exchanges at least {@code count} echoes, and goes on while {@code until} is set
     * (for at most a minute); fails with the first victim's failure.
     */
    public Samples echo(int count, AtomicBoolean until) throws InterruptedException {
        Samples[] each = new Samples[sockets.size()];
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (int i = 0; i < sockets.size(); i++) {
            int number = i;
            Thread thread = new Thread(
                    () -> {
                        try {
                            each[number] = echoes(number, count, until);
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    },
                    "victim-" + i);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(TimeUnit.NANOSECONDS.toMillis(LOOP_LIMIT_NANOS) + 10_000);
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("victims failed: " + failures, failures.get(0));
        }
        return new Samples(
                Arrays.stream(each)
                        .flatMapToLong(samples -> Arrays.stream(samples.rtt()))
                        .toArray(),
                Arrays.stream(each)
                        .flatMapToLong(samples -> Arrays.stream(samples.at()))
                        .toArray());
    }

    private Samples echoes(int number, int count, AtomicBoolean until) throws IOException, InterruptedException {
        RawWebSocket victim = sockets.get(number);
        Random random = new Random(number);
        long[] times = new long[count];
        long[] at = new long[count];
        int done = 0;
        long deadline = System.nanoTime() + LOOP_LIMIT_NANOS;
        while ((done < count || until.get()) && System.nanoTime() < deadline) {
            byte[] payload = new byte[PAYLOAD];
            random.nextBytes(payload);
            long begun = System.nanoTime();
            victim.send(true, RawWebSocket.BINARY, payload);
            RawWebSocket.Frame echo = victim.nextIgnoringPings();
            long took = System.nanoTime() - begun;
            if (echo == null || echo.opcode() != RawWebSocket.BINARY || !Arrays.equals(payload, echo.payload())) {
                throw new AssertionError("victim " + number + " got " + echo + " instead of its echo, after " + done);
            }
            if (done == times.length) {
                times = Arrays.copyOf(times, times.length * 2);
                at = Arrays.copyOf(at, at.length * 2);
            }
            at[done] = begun;
            times[done++] = took;
            Thread.sleep(thinkMs);
        }
        if (done < count) {
            throw new AssertionError(
                    "victim " + number + " made " + done + " of its " + count + " round trips in a minute");
        }
        return new Samples(Arrays.copyOf(times, done), Arrays.copyOf(at, done));
    }

    @Override
    public void close() {
        for (RawWebSocket socket : sockets) {
            try {
                socket.close();
            } catch (Exception ignored) {
                // closing what is left; the gateway ends the session either way
            }
        }
    }
}
