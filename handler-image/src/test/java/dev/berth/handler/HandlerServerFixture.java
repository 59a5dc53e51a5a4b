package dev.berth.handler;

import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;

/**
 * The real server on a free port, for one test, with the state, log and exit action it was given;
 * the test talks to it as the gateway and the browser would. Its clients and the server are closed
 * after each test.
 */
abstract class HandlerServerFixture {

    static final HandlerConfig BASE = new HandlerConfig("127.0.0.1", "s-test", "9.9.9", 0, 60_000, 0, true, null);

    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final HandlerLog log = new HandlerLog("s-test", new PrintStream(logBytes, true, StandardCharsets.UTF_8));
    final CountDownLatch exited = new CountDownLatch(1);
    final List<TestClient> clients = new ArrayList<>();
    SessionState state = new SessionState("s-test");
    HandlerServer server;
    int port;

    /** Starts the handler's server (plain JDK); Vert.x is only the clients' side. */
    void start(Vertx vertx, HandlerConfig config) throws Exception {
        server = new HandlerServer(config, state, "test-host", log, exited::countDown);
        server.start();
        port = server.actualPort();
    }

    TestClient connect(Vertx vertx) throws Exception {
        TestClient client = TestClient.connect(vertx, port, "/session/s-test/ws");
        clients.add(client);
        return client;
    }

    @AfterEach
    void closeClients() throws Exception {
        for (TestClient client : clients) {
            client.close();
        }
        if (server != null) {
            server.stop();
        }
    }

    String logText() {
        return logBytes.toString(StandardCharsets.UTF_8);
    }
}
