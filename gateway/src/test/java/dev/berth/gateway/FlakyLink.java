package dev.berth.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A TCP link on loopback between test clients and the gateway that a test can cut, as a phone
 * changing networks would: every connection through it drops at once, without a websocket close,
 * and whatever was in flight is lost.
 */
public final class FlakyLink implements AutoCloseable {

    public final int port;
    private final NetServer server;
    private final NetClient client; // held: an unreachable client is closed by a Cleaner
    private final List<NetSocket> open = new CopyOnWriteArrayList<>();

    public FlakyLink(Vertx vertx, int targetPort) throws Exception {
        client = vertx.createNetClient();
        server = vertx.createNetServer()
                .connectHandler(incoming -> {
                    incoming.pause();
                    client.connect(targetPort, "127.0.0.1").onComplete(connected -> {
                        if (connected.failed()) {
                            incoming.close();
                            return;
                        }
                        NetSocket outgoing = connected.result();
                        open.add(incoming);
                        open.add(outgoing);
                        incoming.pipeTo(outgoing);
                        outgoing.pipeTo(incoming);
                        incoming.resume();
                    });
                })
                .listen(0, "127.0.0.1")
                .await(10, TimeUnit.SECONDS);
        port = server.actualPort();
    }

    /** Drops every connection through the link; new ones may be made afterwards. */
    public void cut() {
        for (NetSocket socket : open) {
            socket.close();
        }
        open.clear();
    }

    /** Stops forwarding anything, both ways, while every connection stays open: a client that went silent. */
    public void freeze() {
        open.forEach(NetSocket::pause);
    }

    @Override
    public void close() throws Exception {
        cut();
        server.close().await(10, TimeUnit.SECONDS);
        client.close().await(10, TimeUnit.SECONDS);
    }
}
