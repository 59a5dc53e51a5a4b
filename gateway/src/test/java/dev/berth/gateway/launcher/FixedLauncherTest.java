package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.gateway.FrameClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.config.LauncherKind;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The fixed launcher pipes each new session to the next of its route's running backends, in turn. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FixedLauncherTest {

    private final List<HttpServer> backends = new ArrayList<>();
    private TestGateway gateway;

    @AfterEach
    void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        for (HttpServer backend : backends) {
            backend.close().await();
        }
    }

    /** A running websocket backend that greets with its name and echoes. */
    private int backend(Vertx vertx, String name) throws Exception {
        HttpServer server = vertx.createHttpServer()
                .webSocketHandler(socket -> {
                    socket.handler(socket::write);
                    socket.writeTextMessage(new JsonObject()
                            .put("type", "hello")
                            .put("backend", name)
                            .encode());
                })
                .listen(0, "127.0.0.1")
                .await(10, TimeUnit.SECONDS);
        backends.add(server);
        return server.actualPort();
    }

    @Test
    void newSessionsArePipedToTheRunningBackendsInTurn(Vertx vertx) throws Exception {
        int first = backend(vertx, "first");
        int second = backend(vertx, "second");
        gateway = TestGateway.on(LauncherKind.FIXED)
                .route("fixed: {backends: [\"127.0.0.1:" + first + "\", \"127.0.0.1:" + second + "\"]}")
                .start(vertx);
        List<String> reached = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (FrameClient client = FrameClient.connect(vertx, gateway.port, null)) {
                reached.add(client.hello().getString("backend"));
                client.socket().writeTextMessage("echo " + i);
                assertEquals("echo " + i, client.nextDataFrame().textData(), "piped both ways");
            }
        }
        assertEquals(List.of("first", "second", "first"), reached);
    }

    @Test
    void moreSessionsThanAWebSocketClientPoolsByDefaultShareOneBackend(Vertx vertx) throws Exception {
        int only = backend(vertx, "only");
        gateway = TestGateway.on(LauncherKind.FIXED)
                .maxSessions(100)
                .route("fixed: {backends: [\"127.0.0.1:" + only + "\"]}")
                .start(vertx);
        List<FrameClient> clients = new ArrayList<>();
        try {
            for (int i = 0;
                    i < 60;
                    i++) { // Vert.x's client holds 50 websockets per host and port unless told otherwise
                clients.add(FrameClient.connect(vertx, gateway.port, null));
            }
            for (FrameClient client : clients) {
                assertEquals("only", client.hello().getString("backend"), "every session piped to the one backend");
            }
        } finally {
            for (FrameClient client : clients) {
                client.close();
            }
        }
    }
}
