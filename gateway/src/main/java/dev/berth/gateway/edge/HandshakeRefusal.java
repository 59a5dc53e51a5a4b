package dev.berth.gateway.edge;

import dev.berth.gateway.launcher.LaunchException;
import dev.berth.gateway.launcher.LaunchFailure;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.logging.Logger;

/**
 * Answers a websocket upgrade that cannot be accepted, with one status per failure: 503 with
 * Retry-After when Berth cannot launch now, 502 when the backend failed, and a one-line text body
 * that says why in terms fit for a client. The log gets the full detail.
 */
final class HandshakeRefusal {

  static final int RETRY_AFTER_SECONDS = 5;
  private static final Logger LOG = Logger.getLogger(HandshakeRefusal.class.getName());

  private HandshakeRefusal() {}

  static void send(HttpServerRequest request, Throwable error) {
    LaunchException launch = LaunchException.wrap(error, LaunchFailure.START_FAILED, "launch failed");
    LaunchFailure failure = launch.failure();
    send(request, failure.temporary() ? 503 : 502, failure.tag() + ": " + failure.publicReason(),
        failure.tag() + ": " + launch.getMessage());
  }

  static void send(HttpServerRequest request, int status, String reason) {
    send(request, status, reason, reason);
  }

  /** @param detail for the log only: it may name backends and their addresses */
  private static void send(HttpServerRequest request, int status, String reason, String detail) {
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      LOG.info("client " + request.remoteAddress() + " left " + request.path()
          + " before its session was ready; the session waits for it through its grace period");
      return;
    }
    LOG.warning("refused websocket upgrade " + request.path() + " from " + request.remoteAddress() + " with "
        + status + ": " + detail);
    if (status == 503) {
      response.putHeader("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
    } else if (status == 426) {
      response.putHeader("Upgrade", "websocket");
    }
    response.setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8").end(reason + "\n");
  }
}
