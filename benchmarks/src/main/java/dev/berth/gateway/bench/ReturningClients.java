package dev.berth.gateway.bench;

import dev.berth.gateway.FrameClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The benchmark's users, one per session. Each keeps what a browser keeps (its session cookie) and what it checks
 * on coming back after a restart: its session key, how many frames it sent (the container counts them), and the
 * last listing seq it saw (the container's feed numbers them). Clients are {@link FrameClient}s driven from
 * threads of their own, so that each one's wait for its hello and state is timed on its own.
 */
final class ReturningClients {

    /** One client's return after a restart: milliseconds from /health answering, and what did not hold. */
    record Comeback(int index, double upgradeMs, double helloMs, double stateMs, String problem) {
        boolean ok() {
            return problem == null;
        }
    }

    /** What a client remembers of its session. */
    private static final class User {
        final int index;
        final int framesSent;
        volatile FrameClient client;
        volatile String token;
        volatile String key;
        volatile long lastSeq;

        User(int index) {
            this.index = index;
            this.framesSent = index + 1; // a count of its own, so a mix-up of containers shows
        }

        @Override
        public String toString() {
            return "client " + index + " (session " + key + ")";
        }
    }

    private final Vertx vertx;
    private final RestartOptions options;
    private final Deadline deadline;
    private final List<User> users = Collections.synchronizedList(new ArrayList<>());
    private final ExecutorService threads;

    ReturningClients(Vertx vertx, RestartOptions options, Deadline deadline) {
        this.vertx = vertx;
        this.options = options;
        this.deadline = deadline;
        this.threads = Executors.newFixedThreadPool(Math.max(options.sessions(), options.concurrency()), r -> {
            Thread t = new Thread(r, "bench-client");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens {@code --sessions} new sessions, {@code --concurrency} at a time (each launches a container). Each client
     * sends its frames, reads every echo, and turns its feed to {@code --feed-per-second}.
     */
    void open(int port) throws Exception {
        Semaphore slots = new Semaphore(options.concurrency());
        List<Future<User>> opening = new ArrayList<>();
        for (int i = 0; i < options.sessions(); i++) {
            int index = i;
            opening.add(threads.submit(() -> {
                slots.acquire();
                try {
                    return openSession(port, index);
                } finally {
                    slots.release();
                }
            }));
        }
        for (Future<User> f : opening) {
            users.add(f.get(deadline.boundedMillis(java.time.Duration.ofMinutes(5)), TimeUnit.MILLISECONDS));
            if (users.size() % 5 == 0) {
                Progress.print("open: " + users.size() + "/" + options.sessions() + " sessions streaming");
            }
        }
    }

    private User openSession(int port, int index) throws Exception {
        User user = new User(index);
        user.client = FrameClient.connect(vertx, port, null);
        JsonObject hello = user.client.hello();
        user.key = hello.getString("session");
        user.token = user.client.sessionToken();
        for (int n = 0; n < user.framesSent; n++) {
            String text = "client " + index + " frame " + n;
            user.client.socket().writeTextMessage(text);
            String echo = user.client.nextDataFrame().textData();
            if (!text.equals(echo)) {
                throw new IllegalStateException(user + ": sent '" + text + "', got back '" + echo + "'");
            }
        }
        startFeed(user);
        return user;
    }

    /** Turns the feed up (a new handler connection starts at the handler's default) and waits for it to flow. */
    private void startFeed(User user) throws Exception {
        user.client.sendJson(new JsonObject().put("cmd", "feed").put("perSecond", options.feedPerSecond()));
        user.client.nextMessage("feed");
        if (options.feedPerSecond() > 0) {
            user.lastSeq = Math.max(user.lastSeq, max(user.client.listingSeqs(2)));
        }
    }

    /**
     * After the gateway died: waits for every client's socket to close, keeps the last listing seq each saw, and
     * returns the problems (a socket still open, or a close other than 1006, i.e. with a close frame).
     */
    List<String> awaitDropped() {
        List<String> problems = new ArrayList<>();
        for (User user : snapshot()) {
            try {
                user.lastSeq = Math.max(user.lastSeq, max(user.client.listingSeqsUntilClosed()));
                short code = user.client.awaitClose();
                if (code != 1006) {
                    problems.add(user + " closed with " + code + " " + user.client.closeReason() + ", not 1006");
                }
            } catch (Exception | AssertionError e) {
                problems.add(user + ": socket not closed after the gateway died: " + e);
            }
        }
        return problems;
    }

    /**
     * Every client comes back at once with its cookie, as browsers do after a restart, each on a thread of its own.
     * Completes with each client's return, timed from {@code fromNanos} (when /health answered).
     */
    List<Future<Comeback>> comeBack(int port, int expectedConnection, long fromNanos) {
        List<Future<Comeback>> returns = new ArrayList<>();
        for (User user : snapshot()) {
            returns.add(threads.submit(() -> comeBack(user, port, expectedConnection, fromNanos)));
        }
        return returns;
    }

    /**
     * Reconnects one client and checks it found its own container: the same key in the hello, one more gateway
     * connection, its frame count, a feed that goes on after the last seq it saw. Only up to its state reply is
     * timed; the feed check and turning the feed up again come after.
     */
    private Comeback comeBack(User user, int port, int expectedConnection, long fromNanos) {
        double upgradeMs = -1;
        double helloMs = -1;
        double stateMs = -1;
        try {
            user.client.close(); // its socket is closed already: this lets go of its WebSocketClient
            user.client = FrameClient.connect(vertx, port, user.token);
            upgradeMs = sinceMs(fromNanos);
            JsonObject hello = user.client.hello();
            helloMs = sinceMs(fromNanos);
            JsonObject state = user.client.state();
            stateMs = sinceMs(fromNanos);
            List<String> wrong = new ArrayList<>();
            if (!user.key.equals(hello.getString("session"))) {
                wrong.add("hello names session " + hello.getString("session"));
            }
            if (hello.getInteger("connection", -1) != expectedConnection) {
                wrong.add("hello says connection " + hello.getInteger("connection") + ", not " + expectedConnection);
            }
            if (state.getLong("framesReceived", -1L) != user.framesSent) {
                wrong.add("state says framesReceived " + state.getLong("framesReceived") + ", not " + user.framesSent);
            }
            long next = user.client.listingSeqs(1).get(0);
            if (next <= user.lastSeq) {
                wrong.add("listing seq " + next + " does not go on after " + user.lastSeq);
            }
            user.lastSeq = next;
            startFeed(user);
            return new Comeback(user.index, upgradeMs, helloMs, stateMs, wrong.isEmpty() ? null : user + ": " + wrong);
        } catch (Exception | AssertionError e) {
            return new Comeback(user.index, upgradeMs, helloMs, stateMs, user + ": " + e);
        }
    }

    /** Closes every client normally (1000), which ends its session: the gateway removes its container. */
    String closeAll() {
        int closed = 0;
        List<String> failed = new ArrayList<>();
        for (User user : snapshot()) {
            try {
                user.client.close();
                closed++;
            } catch (Exception e) {
                failed.add(user + ": " + e);
            }
        }
        users.clear();
        threads.shutdownNow();
        return "closed " + closed + " client(s) normally (1000)" + (failed.isEmpty() ? "" : "; failed: " + failed);
    }

    int count() {
        return users.size();
    }

    private List<User> snapshot() {
        synchronized (users) {
            return new ArrayList<>(users);
        }
    }

    /** Waits for the returns, bounded by the run's time limit. */
    static List<Comeback> await(List<Future<Comeback>> returns, Deadline deadline) throws Exception {
        List<Comeback> done = new ArrayList<>();
        for (Future<Comeback> f : returns) {
            try {
                done.add(f.get(deadline.boundedMillis(java.time.Duration.ofMinutes(2)), TimeUnit.MILLISECONDS));
            } catch (TimeoutException e) {
                throw new TimeoutException("a client had not come back after 2 minutes");
            }
        }
        return done;
    }

    private static double sinceMs(long fromNanos) {
        return (System.nanoTime() - fromNanos) / 1e6;
    }

    private static long max(List<Long> seqs) {
        return seqs.stream().mapToLong(Long::longValue).max().orElse(0);
    }
}
