package dev.berth.gateway.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A connection to the engine's unix socket that keeps the promises of {@link Socket} an HTTP client
 * relies on: reads time out after {@link #setSoTimeout} (so a call the engine never answers fails
 * after {@code docker.apiTimeout} instead of holding its worker forever), and a short read reports
 * a connection the engine closed, so a pooled connection left from before an engine restart is
 * found stale before it is used (docker-java's own unix socket honours neither: its reads block
 * without limit).
 */
final class EngineSocket extends Socket {

    private final SocketChannel channel;
    /** One selector for both ways: an HTTP/1 exchange writes, then reads, never both at once. */
    private final Selector selector;

    private final SelectionKey key;
    private final InputStream in = new In();
    private final OutputStream out = new Out();
    private volatile int timeoutMs;

    EngineSocket(String path) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(path));
            channel.configureBlocking(false);
            selector = Selector.open();
            key = channel.register(selector, 0);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            ByteBuffer buffer = ByteBuffer.wrap(into, offset, length);
            while (true) {
                int read = channel.read(buffer);
                if (read != 0) {
                    return read;
                }
                await(SelectionKey.OP_READ, "sent nothing");
            }
        }

        @Override
        public int available() throws IOException {
            return 0;
        }

        @Override
        public void close() throws IOException {
            EngineSocket.this.close();
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] from, int offset, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(from, offset, length);
            while (buffer.hasRemaining()) {
                if (channel.write(buffer) == 0) {
                    await(SelectionKey.OP_WRITE, "took nothing");
                }
            }
        }

        @Override
        public void close() throws IOException {
            EngineSocket.this.close();
        }
    }

    /** Waits until the channel is ready for {@code operation}, at most the read timeout (0: forever). */
    private void await(int operation, String failing) throws IOException {
        int ready;
        try {
            key.interestOps(operation);
            ready = selector.select(timeoutMs);
            selector.selectedKeys().clear();
        } catch (java.nio.channels.ClosedSelectorException | java.nio.channels.CancelledKeyException closed) {
            throw new SocketException("Socket is closed");
        }
        if (ready == 0 && timeoutMs > 0) {
            throw new SocketTimeoutException("the engine " + failing + " for " + timeoutMs + "ms");
        }
    }

    @Override
    public InputStream getInputStream() throws IOException {
        requireOpen();
        return in;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        requireOpen();
        return out;
    }

    private void requireOpen() throws SocketException {
        if (!channel.isOpen()) {
            throw new SocketException("Socket is closed");
        }
    }

    @Override
    public void setSoTimeout(int timeout) {
        timeoutMs = timeout;
    }

    @Override
    public int getSoTimeout() {
        return timeoutMs;
    }

    // Already connected when made; the HTTP client's TCP options mean nothing on a unix socket.

    @Override
    public void connect(SocketAddress endpoint) {}

    @Override
    public void connect(SocketAddress endpoint, int timeout) {}

    @Override
    public void setTcpNoDelay(boolean on) {}

    @Override
    public void setKeepAlive(boolean on) {}

    @Override
    public void setReuseAddress(boolean on) {}

    @Override
    public void setSoLinger(boolean on, int linger) {}

    @Override
    public void setReceiveBufferSize(int size) {}

    @Override
    public void setSendBufferSize(int size) {}

    @Override
    public boolean isConnected() {
        return channel.isConnected();
    }

    @Override
    public boolean isBound() {
        return true;
    }

    @Override
    public boolean isClosed() {
        return !channel.isOpen();
    }

    @Override
    public void shutdownInput() throws IOException {
        channel.shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public boolean isInputShutdown() {
        return !channel.isOpen();
    }

    @Override
    public boolean isOutputShutdown() {
        return !channel.isOpen();
    }

    @Override
    public InetAddress getInetAddress() {
        return null;
    }

    @Override
    public InetAddress getLocalAddress() {
        return null;
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return null;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return null;
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            channel.close();
        } finally {
            selector.close();
        }
    }
}
