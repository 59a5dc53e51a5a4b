package dev.berth.gateway;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A unix socket that forwards to the real Docker engine, and can be cut and restored, so a test
 * can take the engine away from a running gateway without stopping the engine itself.
 */
final class EngineProxy implements AutoCloseable {

    private static final Path ENGINE = Path.of("/var/run/docker.sock");

    final Path socket;
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
    private ServerSocketChannel server;
    /** While set, nothing is forwarded either way, though every connection stays open: calls hang. */
    private volatile boolean frozen;

    EngineProxy() throws IOException {
        socket = Files.createTempDirectory("berth-engine-proxy").resolve("docker.sock");
        restore();
    }

    /** Answers again, as an engine that came back. */
    void restore() throws IOException {
        ServerSocketChannel listening =
                ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        server = listening;
        Thread acceptor = new Thread(() -> accept(listening), "engine-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String host() {
        return "unix://" + socket;
    }

    private void accept(ServerSocketChannel listening) {
        try {
            while (true) {
                SocketChannel client = listening.accept();
                SocketChannel engine = SocketChannel.open(UnixDomainSocketAddress.of(ENGINE));
                open.add(client);
                open.add(engine);
                copy(client, engine);
                copy(engine, client);
            }
        } catch (IOException cut) {
            // the proxy was closed
        }
    }

    private void copy(SocketChannel from, SocketChannel to) {
        Thread copier = new Thread(
                () -> {
                    ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
                    try {
                        while (from.read(buffer) >= 0) {
                            while (frozen) {
                                Thread.sleep(10);
                            }
                            buffer.flip();
                            while (buffer.hasRemaining()) {
                                to.write(buffer);
                            }
                            buffer.clear();
                        }
                    } catch (IOException | InterruptedException cut) {
                        // one side closed
                    } finally {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                },
                "engine-proxy-copy");
        copier.setDaemon(true);
        copier.start();
    }

    /** The engine takes calls and answers none, until {@link #thaw}: as a wedged engine does. */
    void freeze() {
        frozen = true;
    }

    /** Answers again: what was held goes through. */
    void thaw() {
        frozen = false;
    }

    /** Cuts every connection and removes the socket: until restored, the engine does not answer. */
    void cut() throws IOException {
        server.close();
        open.forEach(EngineProxy::closeQuietly);
        open.clear();
        Files.deleteIfExists(socket);
    }

    @Override
    public void close() throws IOException {
        thaw();
        cut();
        Files.deleteIfExists(socket.getParent());
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
