package dev.berth.gateway.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The proxy benchmark's clients: N websockets to one path (direct, nginx or Berth), binary echoes
 * of one size, on one event loop of their own so every path is driven by the same client work.
 * Two measurements: round trips at a fixed total rate (each connection has at most one message in
 * flight; a send that finds its connection busy is counted as skipped, not queued), and maximum
 * throughput (each connection keeps a window of messages in flight). Text frames (the handler's
 * hello) are ignored. Not thread-safe: its futures complete on its own event loop.
 */
final class EchoLoad implements AutoCloseable {

    record Latency(long[] rttNanos, int sent, int skipped) {}

    record Throughput(long messages, long nanos) {
        double perSecond() {
            return messages * 1e9 / nanos;
        }
    }

    private static final int CONNECT_AT_ONCE = 100;

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
            .setMaxFrameSize(4 << 20)
            .setMaxMessageSize(4 << 20)
            .setMaxConnections(100_000)
            .setConnectTimeout(10_000)
            .setTryUsePerMessageCompression(false)
            .setTryUsePerFrameCompression(false));
    private final List<Link> links = new ArrayList<>();
    /** What an echo means right now: a round trip, a window refill, or nothing (between runs). */
    private EchoListener listener = link -> {};

    private interface EchoListener {
        void echoed(Link link);
    }

    private static final class Link {
        WebSocket socket;
        long sentAt;
        int inFlight;
    }

    /** Opens {@code count} websockets to host:port/path, {@value #CONNECT_AT_ONCE} handshakes at a time. */
    void open(String host, int port, String path, int count) throws Exception {
        for (int begun = 0; begun < count; begun += CONNECT_AT_ONCE) {
            List<Future<WebSocket>> batch = new ArrayList<>();
            for (int i = begun; i < Math.min(count, begun + CONNECT_AT_ONCE); i++) {
                batch.add(client.connect(new WebSocketConnectOptions()
                        .setHost(host)
                        .setPort(port)
                        .setURI(path)));
            }
            for (Future<WebSocket> connected : batch) {
                Link link = new Link();
                link.socket = connected.await(30, TimeUnit.SECONDS);
                link.socket.textMessageHandler(hello -> {});
                link.socket.binaryMessageHandler(echo -> {
                    link.inFlight--;
                    listener.echoed(link);
                });
                links.add(link);
            }
        }
    }

    /** Round trips of {@code size}-byte messages at {@code perSecond} over all connections, for {@code duration}. */
    Latency latency(int size, int perSecond, Duration duration) throws Exception {
        Buffer payload = payload(size);
        int capacity = (int) Math.min(10_000_000, perSecond * duration.toSeconds() + 16);
        long[] rtts = new long[capacity];
        int[] counts = new int[3]; // sent, skipped, recorded
        Promise<Void> done = Promise.promise();
        vertx.runOnContext(v -> {
            long begun = System.nanoTime();
            long end = begun + duration.toNanos();
            listener = link -> {
                if (counts[2] < rtts.length) {
                    rtts[counts[2]++] = System.nanoTime() - link.sentAt;
                }
            };
            int[] next = {0};
            vertx.setPeriodic(1, 1, timer -> {
                long now = System.nanoTime();
                long due = Math.min(now, end) - begun;
                long owed = due * perSecond / 1_000_000_000L - counts[0] - counts[1];
                for (long i = 0; i < owed; i++) {
                    Link link = links.get(next[0]++ % links.size());
                    if (link.inFlight > 0) {
                        counts[1]++;
                        continue;
                    }
                    link.inFlight++;
                    link.sentAt = System.nanoTime();
                    link.socket.writeBinaryMessage(payload);
                    counts[0]++;
                }
                if (now >= end && (allIdle() || now > end + TimeUnit.SECONDS.toNanos(5))) {
                    vertx.cancelTimer(timer);
                    listener = link -> {};
                    done.complete();
                }
            });
        });
        done.future().await(duration.toSeconds() + 30, TimeUnit.SECONDS);
        return new Latency(Arrays.copyOf(rtts, counts[2]), counts[0], counts[1]);
    }

    /** Echoes per second with {@code window} messages in flight per connection, after {@code warmUp}. */
    Throughput throughput(int size, int window, Duration warmUp, Duration duration) throws Exception {
        Buffer payload = payload(size);
        long[] counted = {0, 0}; // echoes, measuring-since
        Promise<Throughput> done = Promise.promise();
        vertx.runOnContext(v -> {
            boolean[] sending = {true};
            listener = link -> {
                if (counted[1] != 0) {
                    counted[0]++;
                }
                if (sending[0]) {
                    link.inFlight++;
                    link.socket.writeBinaryMessage(payload);
                }
            };
            for (Link link : links) {
                for (int i = 0; i < window; i++) {
                    link.inFlight++;
                    link.socket.writeBinaryMessage(payload);
                }
            }
            vertx.setTimer(warmUp.toMillis(), w -> {
                counted[1] = System.nanoTime();
                vertx.setTimer(duration.toMillis(), d -> {
                    long nanos = System.nanoTime() - counted[1];
                    long echoes = counted[0];
                    sending[0] = false;
                    awaitIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(10), () -> {
                        listener = link -> {};
                        done.complete(new Throughput(echoes, nanos));
                    });
                });
            });
        });
        return done.future().await(warmUp.toSeconds() + duration.toSeconds() + 30, TimeUnit.SECONDS);
    }

    /** Closes every connection (1000) and waits for them to close. */
    void closeAll() throws Exception {
        List<Future<Void>> closing = new ArrayList<>();
        for (Link link : links) {
            closing.add(link.socket.close((short) 1000, "bench done"));
        }
        Future.join(closing).await(30, TimeUnit.SECONDS);
        links.clear();
    }

    private boolean allIdle() {
        for (Link link : links) {
            if (link.inFlight > 0) {
                return false;
            }
        }
        return true;
    }

    private void awaitIdle(long untilNanos, Runnable then) {
        if (allIdle() || System.nanoTime() > untilNanos) {
            then.run();
        } else {
            vertx.setTimer(5, t -> awaitIdle(untilNanos, then));
        }
    }

    private static Buffer payload(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return Buffer.buffer(bytes);
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(30, TimeUnit.SECONDS);
    }
}
