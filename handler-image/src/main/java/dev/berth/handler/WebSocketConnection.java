package dev.berth.handler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.concurrent.ScheduledFuture;

/**
 * One websocket, read by the thread that upgraded it. Its {@link FrameReader} checks every frame
 * against RFC 6455; this class answers pings, runs the close handshake, fails the connection on a
 * violation (always sending the close frame before the TCP connection ends), says the session's
 * hello, and hands every data frame to the {@link SessionApp} (to {@link PoolClaim} while a pooled
 * handler is not claimed yet). Everything it sends goes through its {@link FrameWriter}, which
 * never starts the handler's own messages inside an echoed fragmented message (section 5.4).
 */
final class WebSocketConnection implements Runnable {

    private final HandlerServer server;
    private final SessionState state;
    private final Socket socket;
    private final InputStream in;
    private final FrameReader frames;
    private final FrameWriter writer;
    private final SessionApp app;
    private final String path;
    private final long openedAtNanos = System.nanoTime();
    private long number;
    private Short closeCode; // how this websocket ended: the peer's close code, else ours
    private String closeReason;
    private boolean failed; // this side failed the connection: nothing more is read as frames
    private ScheduledFuture<?> closeTimer;

    WebSocketConnection(HandlerServer server, Socket socket, InputStream in, OutputStream out, String path) {
        this.server = server;
        this.state = server.state();
        this.socket = socket;
        this.in = in;
        this.path = path;
        this.frames = new FrameReader(in);
        this.writer = new FrameWriter(socket, out);
        this.app = new SessionApp(this, server, writer);
    }

    FrameWriter writer() {
        return writer;
    }

    long number() {
        return number;
    }

    /** Frames this connection echoed. */
    long framesEchoed() {
        return app.framesEchoed();
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
        server.log()
                .info("connect #" + number + " from " + address(socket.getRemoteSocketAddress()) + " path " + path
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
            app.stop();
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

    /**
     * The session is known: says hello (on the reader thread: waits while the backlog is large),
     * which the gateway's claim and adoption wait for, then starts the app.
     */
    void greet() throws InterruptedException {
        Json.Writer hello = new Json.Writer()
                .put("type", "hello")
                .put("session", state.sessionKey())
                .put("version", server.config().version())
                .put("hostname", server.hostname())
                .put("connection", number);
        if (state.user() != null) {
            hello.put("user", state.user());
        }
        writer.reply(hello.toString());
        app.started();
    }

    /**
     * Closes this websocket from the handler's side (a close command, a failure, the shutdown):
     * queues the close frame, after which nothing more is sent or echoed, and closes the socket
     * anyway if the peer has not closed TCP within {@link HandlerServer#CLOSE_TIMEOUT_MS}.
     * Callable from any thread.
     */
    void closeWith(int code, String reason) {
        app.stop();
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

    /**
     * Fails the websocket (RFC 6455 section 7.1.7): closes it with {@code code}, echoes nothing
     * more, and reads no more frames (after a protocol error the stream cannot be trusted).
     */
    void fail(int code, String reason) {
        failed = true;
        closeWith(code, reason);
    }

    /** Drops the connection at once, without a close handshake (the server stops). */
    void abort() {
        app.stop();
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

    /** Reads frames until a close frame, a failure or the end of TCP. */
    private void readFrames() throws IOException, InterruptedException {
        while (!failed) {
            try {
                if (!frames.next()) {
                    return; // TCP ended without a close frame
                }
            } catch (FrameReader.Violation violation) {
                fail(violation.code, violation.getMessage());
                return;
            }
            int opcode = frames.opcode();
            if (opcode == FrameReader.PING) {
                state.pingReceived(); // counted so a test can tell whether a proxy forwards pings
                writer.pong(frames.payload());
            } else if (opcode == FrameReader.CLOSE) {
                peerClosed();
                return; // the handshake ends the websocket
            } else if (opcode != FrameReader.PONG) {
                dataFrame(opcode, frames.fin(), frames.payload());
            }
        }
    }

    /** A valid close frame from the peer. */
    private void peerClosed() {
        synchronized (this) {
            closeCode = (short) frames.closeCode(); // the peer's code is the one remembered, also after ours went out
            closeReason = frames.closeReason();
        }
        // Echo the code (or an empty close for an empty one), unless ours went out first: then this
        // is the peer's answer and the handshake is complete.
        closeWith(frames.payload().length == 0 ? -1 : frames.closeCode(), "");
    }

    /** A text, binary or continuation frame. */
    private void dataFrame(int opcode, boolean fin, byte[] payload) throws InterruptedException {
        if (writer.closeQueued()) {
            return; // closing: frames still arriving are read, not answered, until the peer's close
        }
        if (state.sessionKey() == null) {
            PoolClaim.first(this, state, opcode, fin, payload);
            return;
        }
        app.frame(opcode, fin, payload);
    }
}
