package dev.berth.handler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/websocket server of one session, on the plain JDK: a blocking accept thread and one
 * thread per connection (a session has one or two), each an {@link HttpConnection} until it is
 * upgraded to a {@link WebSocketConnection}, plus one scheduler thread for feed ticks, close
 * timeouts and the idle timer, and, from the first probe on, pooled threads for probes' blocking
 * connects. No event loop to start is what makes it start fast.
 *
 * <p>It keeps the open websockets: while none is connected for longer than the idle grace
 * (counted from start and from the last disconnect) the injected exit action runs once.
 */
public final class HandlerServer {

    /** Frame and message size limit: a 1 MiB message must pass in one frame, with room to spare. */
    public static final int MAX_WEBSOCKET_SIZE = 16 * 1024 * 1024;
    /** How long a closing websocket waits for the peer to close TCP before the socket is closed anyway. */
    static final long CLOSE_TIMEOUT_MS = 2_000;
    /** An idle probe thread ends after this long. */
    private static final long PROBE_THREAD_KEEP_ALIVE_MS = 30_000;

    private final HandlerConfig config;
    private final SessionState state;
    private final String hostname;
    private final HandlerLog log;
    private final Runnable exitAction;

    private final Set<WebSocketConnection> connections = new LinkedHashSet<>();
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
    public HandlerServer(
            HandlerConfig config, SessionState state, String hostname, HandlerLog log, Runnable exitAction) {
        this.config = config;
        this.state = state;
        this.hostname = hostname;
        this.log = log;
        this.exitAction = exitAction;
        this.scheduler = new ScheduledThreadPoolExecutor(1, new DaemonThreads("berth-timer"));
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
                + config.idleGraceMs() + " ms" + ProcessStart.sinceProcessStart() + ")");
        synchronized (this) {
            armIdleTimer();
        }
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
        List<WebSocketConnection> open;
        synchronized (this) {
            exiting = true;
            cancelIdleTimer();
            open = new ArrayList<>(connections);
        }
        for (WebSocketConnection connection : open) {
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
        List<WebSocketConnection> open;
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
        for (WebSocketConnection connection : open) {
            connection.abort();
        }
        scheduler.shutdownNow();
        if (probing != null) {
            probing.shutdownNow();
        }
    }

    /** The open websockets, in the order they were opened (for tests). */
    synchronized List<WebSocketConnection> openConnections() {
        return new ArrayList<>(connections);
    }

    /** Registers an upgraded websocket and returns its number, or -1 when the session is ending. */
    synchronized long opened(WebSocketConnection connection) {
        if (exiting) {
            return -1;
        }
        cancelIdleTimer();
        connections.add(connection);
        return state.connectionOpened();
    }

    /** Called once by each connection {@link #opened} registered, when it has ended. */
    void closed(WebSocketConnection connection, Short code, String reason) {
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
                + " after " + connection.ageMillis() + " ms, " + connection.framesEchoed() + " frames echoed"
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
     * reused, else one is made. Each connection runs at most {@link TestHooks#MAX_PROBES} probes at
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
                probes = new ThreadPoolExecutor(
                        0,
                        Integer.MAX_VALUE,
                        PROBE_THREAD_KEEP_ALIVE_MS,
                        TimeUnit.MILLISECONDS,
                        new SynchronousQueue<Runnable>(),
                        new DaemonThreads("berth-probe"));
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
                Thread thread = new Thread(new HttpConnection(HandlerServer.this, socket), "berth-conn-" + ++count);
                thread.setDaemon(true);
                thread.start();
            }
        }
    }
}
