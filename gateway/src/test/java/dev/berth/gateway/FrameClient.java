package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real websocket client for tests, driven from the test thread: it records every frame the
 * gateway sends, with its type and fin flag, so a test can check exactly what came back.
 */
final class FrameClient implements AutoCloseable {

  static final int MAX_FRAME = 16 << 20;
  static final long WAIT_SECONDS = 20;

  private final WebSocketClient client; // held: an unreachable client is closed by a Cleaner
  private final ClientWebSocket socket;
  private final BlockingQueue<WebSocketFrame> frames = new LinkedBlockingQueue<>();
  private final Promise<Void> closed = Promise.promise();
  private WebSocket connected;
  private JsonObject hello;

  private FrameClient(Vertx vertx) {
    client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(MAX_FRAME).setMaxMessageSize(MAX_FRAME));
    socket = client.webSocket();
    socket.frameHandler(frames::add);
    socket.closeHandler(v -> closed.tryComplete());
  }

  /** Connects to the gateway's /ws, presenting {@code sessionToken} as cookie when not null. */
  static FrameClient connect(Vertx vertx, int port, String sessionToken) throws Exception {
    FrameClient frameClient = new FrameClient(vertx);
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws");
    if (sessionToken != null) {
      options.addHeader("Cookie", "berth_session=" + sessionToken);
    }
    frameClient.connected = frameClient.socket.connect(options).await(WAIT_SECONDS, TimeUnit.SECONDS);
    frameClient.hello = frameClient.nextMessage("hello");
    return frameClient;
  }

  /** Tries to connect and returns the failure (e.g. an UpgradeRejectedException with its status). */
  static Throwable refusal(Vertx vertx, int port) throws Exception {
    FrameClient frameClient = new FrameClient(vertx);
    Future<WebSocket> attempt = frameClient.socket.connect(
        new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"));
    try {
      attempt.await(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception expected) {
      frameClient.client.close();
      return expected;
    }
    frameClient.close();
    throw new AssertionError("the gateway accepted a websocket it should have refused");
  }

  JsonObject hello() {
    return hello;
  }

  /** The session token from the 101 response's Berth-Session header. */
  String sessionToken() {
    return connected.headers().get("Berth-Session");
  }

  WebSocket socket() {
    return connected;
  }

  void sendJson(JsonObject command) {
    connected.writeTextMessage(command.encode());
  }

  /** Asks the handler for its per-session state and returns the reply. */
  JsonObject state() throws InterruptedException {
    sendJson(new JsonObject().put("cmd", "state"));
    return nextMessage("state");
  }

  /** The next JSON text frame of the given type, skipping live-feed updates and control frames. */
  JsonObject nextMessage(String type) throws InterruptedException {
    while (true) {
      WebSocketFrame frame = nextDataFrame();
      if (frame.type() == WebSocketFrameType.TEXT && frame.isFinal() && frame.textData().startsWith("{")) {
        JsonObject json = new JsonObject(frame.textData());
        if (type.equals(json.getString("type"))) {
          return json;
        }
      }
    }
  }

  /** The next text, binary or continuation frame that is not a live-feed update. */
  WebSocketFrame nextDataFrame() throws InterruptedException {
    while (true) {
      WebSocketFrame frame = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull(frame, "no frame within " + WAIT_SECONDS + "s");
      boolean data = frame.isText() || frame.isBinary() || frame.isContinuation();
      boolean feedUpdate = frame.isText() && frame.textData().startsWith("{\"type\":\"listing\"");
      if (data && !feedUpdate) {
        return frame;
      }
    }
  }

  /** The next pong frame's payload. */
  Buffer nextPong() throws InterruptedException {
    while (true) {
      WebSocketFrame frame = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull(frame, "no pong within " + WAIT_SECONDS + "s");
      if (frame.type() == WebSocketFrameType.PONG) {
        return frame.binaryData();
      }
    }
  }

  /** Waits for the gateway to close this socket; returns its close code. */
  short awaitClose() throws Exception {
    closed.future().await(WAIT_SECONDS, TimeUnit.SECONDS);
    return connected.closeStatusCode();
  }

  String closeReason() {
    return connected.closeReason();
  }

  @Override
  public void close() throws Exception {
    try {
      if (connected != null && !connected.isClosed()) {
        connected.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
      }
    } finally {
      client.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
