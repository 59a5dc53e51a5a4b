package dev.berth.handler;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar berth-handler.jar --self-test}: talks to the process's own server once the
 * way a session would (/ready, hello, an echo, a state command, close) and reports success.
 *
 * <p>The image build runs it with {@code -XX:ArchiveClassesAtExit}, so the JVM records every
 * class a real session start and first connection need into a CDS archive (a much faster start),
 * and a runtime missing a module or a shared library fails the build instead of a session.
 */
final class SelfTest {

  private static final long WAIT_SECONDS = 10;

  private SelfTest() {
  }

  /** Runs the exchange against localhost:{@code port}; throws on any deviation. */
  static void run(Vertx vertx, int port, HandlerLog log) throws Exception {
    HttpClient http = vertx.createHttpClient();
    WebSocketClient client = vertx.createWebSocketClient(); // keep a strong reference (Cleaner)
    try {
      String ready = await(http.request(HttpMethod.GET, port, "localhost", "/ready")
          .compose(req -> req.send())
          .compose(resp -> resp.body().map(body -> resp.statusCode() + " " + body)));
      check("200 ready".equals(ready), "/ready answered " + ready);

      BlockingQueue<String> texts = new LinkedBlockingQueue<>();
      ClientWebSocket socket = client.webSocket();
      socket.textMessageHandler(texts::add);
      await(socket.connect(new WebSocketConnectOptions()
          .setHost("localhost").setPort(port).setURI("/self-test")));
      JsonObject hello = new JsonObject(next(texts));
      check("hello".equals(hello.getString("type")), "first message is not a hello: " + hello);
      await(socket.writeFrame(io.vertx.core.http.WebSocketFrame.textFrame("self-test echo", true)));
      await(socket.writeTextMessage("{\"cmd\":\"feed\",\"perSecond\":0}"));
      await(socket.writeTextMessage("{\"cmd\":\"state\"}"));
      boolean echoed = false;
      JsonObject state = null;
      while (state == null) {
        String text = next(texts);
        if (text.equals("self-test echo")) {
          echoed = true;
        } else if (text.startsWith("{\"type\":\"state\"")) {
          state = new JsonObject(text);
        }
      }
      check(echoed, "the echo did not come back before the state reply");
      check(state.getLong("framesReceived") == 1, "state counts " + state);
      await(socket.close());
      log.info("self-test passed");
    } finally {
      http.close();
      client.close();
    }
  }

  private static String next(BlockingQueue<String> texts) throws InterruptedException {
    String text = texts.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    check(text != null, "no websocket message within " + WAIT_SECONDS + " s");
    return text;
  }

  private static void check(boolean condition, String failure) {
    if (!condition) {
      throw new IllegalStateException("self-test failed: " + failure);
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }
}
