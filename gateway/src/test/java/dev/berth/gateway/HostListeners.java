package dev.berth.gateway;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Listeners a sandbox test opens on the host itself, so that a probe from inside a session that
 * reaches one really connects: a sandbox that leaks turns the test red, where a probe of a port
 * nothing listens on would pass either way. Each accepts and closes whatever connects.
 */
public final class HostListeners implements AutoCloseable {

    /** One listener: where it is and what it stands for. */
    public record Listener(String host, int port, String what) {}

    private final List<ServerSocket> sockets = new ArrayList<>();
    private final List<Listener> listeners = new ArrayList<>();

    /** Listens on {@code host} (an address of this machine) on a free port; fails if it is not one. */
    public HostListeners on(String host, String what) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
        sockets.add(socket);
        listeners.add(new Listener(host, socket.getLocalPort(), what + " (a listener on " + host + ")"));
        Thread accepting = new Thread(
                () -> {
                    while (!socket.isClosed()) {
                        try (Socket reached = socket.accept()) {
                            // a connection from a session: the probe reports it as reachable
                        } catch (IOException closed) {
                            return;
                        }
                    }
                },
                "host-listener-" + host);
        accepting.setDaemon(true);
        accepting.start();
        return this;
    }

    /** As the targets of {@link FrameClient#assertSandboxReachesNone}, with {@code more} ahead of them. */
    public String[][] targets(String[]... more) {
        List<String[]> all = new ArrayList<>(List.of(more));
        listeners.forEach(listener ->
                all.add(new String[] {listener.host(), Integer.toString(listener.port()), listener.what()}));
        return all.toArray(new String[0][]);
    }

    @Override
    public void close() throws IOException {
        for (ServerSocket socket : sockets) {
            socket.close();
        }
    }
}
