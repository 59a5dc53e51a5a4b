package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketFrame;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The client side of the resume protocol (docs/sessions.md), in Java for tests, as berth.js does
 * it in the browser: number what it sends, keep it until acknowledged, drop what it received
 * twice, and on reconnect say where it stopped and send again what the gateway did not get.
 */
public final class ResumingClient implements AutoCloseable {

  public static final String SUBPROTOCOL = "berth.resume.v1";

  private record Sent(long seq, String text) {}

  private final Vertx vertx;
  private final Deque<Sent> unacknowledged = new ArrayDeque<>();
  private final List<String> received = new ArrayList<>();
  private String token;
  private String stream = "-";
  private long sentSeq;
  private long lastReceived;
  private FrameClient connection;

  public ResumingClient(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Connects (again) through {@code port}, resumes, and sends what the gateway did not get. */
  public ResumingClient connect(int port) throws Exception {
    connection = FrameClient.connect(vertx, port, token, SUBPROTOCOL);
    assertEquals(SUBPROTOCOL, connection.socket().subProtocol(), "the gateway accepted the resume protocol");
    token = connection.sessionToken();
    connection.socket().writeTextMessage("resume " + lastReceived + " " + stream);
    String[] answer;
    while (true) {
      WebSocketFrame frame = connection.nextDataFrame();
      if (frame.isText() && frame.textData().startsWith("resume ")) {
        answer = frame.textData().split(" ");
        break;
      }
      throw new AssertionError("before the gateway's resume, got: " + frame.textData());
    }
    long gatewayHas = Long.parseLong(answer[1]);
    if (!answer[2].equals(stream)) {
      lastReceived = 0;
      stream = answer[2];
    }
    unacknowledged.removeIf(sent -> sent.seq <= gatewayHas);
    for (Sent sent : unacknowledged) {
      connection.socket().writeTextMessage(sent.seq + " " + sent.text);
    }
    return this;
  }

  public void send(String text) {
    Sent sent = new Sent(++sentSeq, text);
    unacknowledged.add(sent);
    if (!connection.socket().isClosed()) {
      connection.socket().writeTextMessage(sent.seq + " " + text);
    }
  }

  /**
   * Reads, acknowledging as it goes, until {@code count} received messages start with
   * {@code prefix}; returns false when the connection dropped first.
   */
  public boolean receiveUntil(String prefix, int count) throws Exception {
    long deadline = System.currentTimeMillis() + FrameClient.WAIT_SECONDS * 1000;
    while (received.stream().filter(text -> text.startsWith(prefix)).count() < count) {
      WebSocketFrame frame = connection.pollFrame(100);
      if (frame == null) {
        if (connection.socket().isClosed()) {
          return false;
        }
        if (System.currentTimeMillis() > deadline) {
          throw new AssertionError("only " + received.size() + " messages within " + FrameClient.WAIT_SECONDS + "s");
        }
      } else if (frame.isText()) {
        take(frame.textData());
      }
    }
    return true;
  }

  private void take(String text) {
    if (text.startsWith("ack ")) {
      long upTo = Long.parseLong(text.substring(4));
      unacknowledged.removeIf(sent -> sent.seq <= upTo);
      return;
    }
    int space = text.indexOf(' ');
    long seq = Long.parseLong(text.substring(0, space));
    if (seq <= lastReceived) {
      return; // sent again after a reconnect: had it already
    }
    lastReceived = seq;
    received.add(text.substring(space + 1));
    connection.socket().writeTextMessage("ack " + lastReceived);
  }

  /** Every message received once, in order, without its sequence number. */
  public List<String> received() {
    return received;
  }

  public String token() {
    return token;
  }

  public FrameClient connection() {
    return connection;
  }

  @Override
  public void close() throws Exception {
    connection.close();
  }
}
