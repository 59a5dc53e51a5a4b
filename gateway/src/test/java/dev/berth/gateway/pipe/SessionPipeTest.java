package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.gateway.Await;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The pipe on its own, for what a whole gateway cannot time on demand. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SessionPipeTest {

    /**
     * A pooled backend's websocket can close between its claim and the pipe's start (found by
     * RegistryLifetimeTest once in a full run: the pipe threw "WebSocket is closed" on the loop, and
     * the session waited, attached to nothing, until its client gave up).
     */
    @Test
    void aBackendThatClosedBeforeThePipeStartedIsReportedClosedWithItsCode(Vertx vertx) throws Exception {
        HttpServer server = vertx.createHttpServer()
                .webSocketHandler(ServerWebSocket::pause) // never read: the test closes it from its own side
                .listen(0, "127.0.0.1")
                .await(10, TimeUnit.SECONDS);
        WebSocketClient client = vertx.createWebSocketClient();
        Context loop = vertx.getOrCreateContext();
        WebSocket backend =
                client.connect(server.actualPort(), "127.0.0.1", "/").await(10, TimeUnit.SECONDS);
        backend.pause();
        backend.close((short) 1001, "going away").await(10, TimeUnit.SECONDS);
        Await.until(backend::isClosed, 10_000, "the backend's websocket closed");

        CompletableFuture<Short> closedWith = new CompletableFuture<>();
        loop.runOnContext(v -> SessionPipe.open(
                vertx,
                loop,
                backend,
                1 << 20,
                1000,
                1 << 16,
                1 << 20,
                new FrameMeter() {
                    @Override
                    public void forwarded(Direction direction, int payloadBytes) {}

                    @Override
                    public void clientAttached(boolean onPipeLoop) {}
                },
                loop,
                new SessionPipe.Listener() {
                    @Override
                    public void backendClosed(Short code, String reason) {
                        closedWith.complete(code);
                    }

                    @Override
                    public void clientClosed(ServerWebSocket client, Short code, String reason) {}

                    @Override
                    public void clientMisbehaved(ServerWebSocket client, Failure failure, String detail) {}

                    @Override
                    public void backendMisbehaved(Failure failure, String detail) {}

                    @Override
                    public void bufferOverflow(long bytes, int frames) {}

                    @Override
                    public void firstFrameDelivered() {}
                },
                null));
        assertEquals(
                (short) 1001, closedWith.get(10, TimeUnit.SECONDS), "the session hears the backend closed, and how");
        client.close();
        server.close();
    }
}
