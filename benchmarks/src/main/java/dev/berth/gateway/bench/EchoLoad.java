package dev.berth.gateway.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The proxy benchmark's clients: N websockets to one path (direct, nginx or Berth), echoes of one
 * size, binary or text, on one event loop of their own so every path is driven by the same client
 * work.
 * Two measurements: round trips at a fixed total rate (each connection has at most one message in
 * flight; a send that finds its connection busy is counted as skipped, not queued), and maximum
 * throughput (each connection keeps a window of messages in flight). A text message that starts
 * with {@code &#123;} (the handler's hello) is not an echo: text payloads are letters. Not
 * thread-safe: its futures complete on its own event loop.
 */
final class EchoLoad implements AutoCloseable {

    record Latency(long[] rttNanos, int sent, int skipped) {}

    /** Where one connection goes; {@code cookie} (or null) is sent as the {@code Cookie} header. */
    record Target(String host, int port, String path, String cookie) {}

    /** A Berth session as its client knows it: the token to come back with, and the key its hello names. */
    record Session(String token, String key) {}

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
        List<Target> targets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            targets.add(new Target(host, port, path, null));
        }
        open(targets);
    }

    /** Opens one websocket to each target, {@value #CONNECT_AT_ONCE} handshakes at a time. */
    void open(List<Target> targets) throws Exception {
        for (int begun = 0; begun < targets.size(); begun += CONNECT_AT_ONCE) {
            List<Future<WebSocket>> batch = new ArrayList<>();
            for (Target target : targets.subList(begun, Math.min(targets.size(), begun + CONNECT_AT_ONCE))) {
                batch.add(client.connect(options(target)));
            }
            for (Future<WebSocket> connected : batch) {
                Link link = new Link();
                link.socket = connected.await(30, TimeUnit.SECONDS);
                link.socket.textMessageHandler(text -> {
                    if (!text.startsWith("{")) {
                        echoed(link);
                    }
                });
                link.socket.binaryMessageHandler(echo -> echoed(link));
                links.add(link);
            }
        }
    }

    private void echoed(Link link) {
        link.inFlight--;
        listener.echoed(link);
    }

    private static WebSocketConnectOptions options(Target target) {
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setHost(target.host())
                .setPort(target.port())
                .setURI(target.path());
        if (target.cookie() != null) {
            options.addHeader("Cookie", target.cookie());
        }
        return options;
    }

    /**
     * Starts a session at Berth as a browser would: connects, keeps the token the 101 carries and the
     * key the handler's hello names, and leaves (1001), which keeps the session for its client's return.
     */
    Session startSession(String host, int port, String path) throws Exception {
        Promise<String> hello = Promise.promise();
        ClientWebSocket socket = client.webSocket();
        socket.textMessageHandler(hello::tryComplete); // before the connect: the hello comes at once
        socket.connect(options(new Target(host, port, path, null))).await(60, TimeUnit.SECONDS);
        String key = new JsonObject(hello.future().await(30, TimeUnit.SECONDS)).getString("session");
        String token = socket.headers().get("Berth-Session");
        socket.close((short) 1001, "bench: back soon").await(30, TimeUnit.SECONDS);
        if (key == null || token == null) {
            throw new IllegalStateException(
                    "no session key in the hello or no Berth-Session header from " + host + ":" + port + path);
        }
        return new Session(token, key);
    }

    /** Round trips of {@code size}-byte messages at {@code perSecond} over all connections, for {@code duration}. */
    Latency latency(int size, boolean text, int perSecond, Duration duration) throws Exception {
        Payload payload = new Payload(size, text);
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
                    payload.send(link.socket);
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
    Throughput throughput(int size, boolean text, int window, Duration warmUp, Duration duration) throws Exception {
        Payload payload = new Payload(size, text);
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
                    payload.send(link.socket);
                }
            };
            for (Link link : links) {
                for (int i = 0; i < window; i++) {
                    link.inFlight++;
                    payload.send(link.socket);
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

    /**
     * Closes every connection with {@code code} and waits for them to close: 1000 ends a Berth
     * session, 1001 leaves it for the client's return.
     */
    void closeAll(int code) throws Exception {
        List<Future<Void>> closing = new ArrayList<>();
        for (Link link : links) {
            closing.add(link.socket.close((short) code, "bench done"));
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

    /** A message of one size: random bytes, or random letters as text (never mistaken for a hello). */
    private record Payload(Buffer binary, String text) {
        Payload(int size, boolean text) {
            this(text ? null : randomBytes(size), text ? randomLetters(size) : null);
        }

        void send(WebSocket socket) {
            if (text != null) {
                socket.writeTextMessage(text);
            } else {
                socket.writeBinaryMessage(binary);
            }
        }

        private static Buffer randomBytes(int size) {
            byte[] bytes = new byte[size];
            new Random(size).nextBytes(bytes);
            return Buffer.buffer(bytes);
        }

        private static String randomLetters(int size) {
            Random random = new Random(size);
            char[] letters = new char[size];
            for (int i = 0; i < size; i++) {
                letters[i] = (char) ('a' + random.nextInt(26));
            }
            return new String(letters);
        }
    }

    @Override
    public void close() throws Exception {
        vertx.close().await(30, TimeUnit.SECONDS);
    }
}
