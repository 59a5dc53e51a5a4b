package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Asks a backend's {@code GET /ready} until it answers 200, the backend exits, or the deadline
 * passes. The failure says which, and names the setting to raise. Only refused connections are
 * retried often: once the handler's socket listens, the kernel takes the connection and the
 * request waits there for the handler's answer, so readiness is seen as it happens, not at the
 * next poll.
 */
final class ReadinessProbe {

  /** A refused connect costs a SYN and a RST on a local bridge: cheap enough to retry this often. */
  private static final long POLL_INTERVAL_MS = 5;
  private static final long ATTEMPT_TIMEOUT_MS = 1000;

  private final Vertx vertx;
  // Held for the probe's lifetime: an unreachable client is closed by a Cleaner.
  private final HttpClient http;

  ReadinessProbe(Vertx vertx) {
    this.vertx = vertx;
    this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
  }

  Future<Void> awaitReady(Backend backend, Duration within, String settingKey) {
    Promise<Void> ready = Promise.promise();
    long deadline = System.nanoTime() + within.toNanos();
    backend.exited().onSuccess(reason -> ready.tryFail(new FailureException(Failure.EXITED_EARLY,
        backend.description() + " exited before it was ready: " + reason)));
    poll(backend.address(), deadline, ready, () -> new FailureException(Failure.READY_TIMEOUT,
        backend.description() + " did not answer GET /ready within " + within.toMillis() + "ms ("
            + settingKey + "); raise it, or check the handler's log"));
    return ready.future();
  }

  private void poll(SocketAddress address, long deadline, Promise<Void> ready,
      Supplier<FailureException> timeout) {
    if (ready.future().isComplete()) {
      return;
    }
    RequestOptions request = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setServer(address)
        .setHost(address.host())
        .setPort(address.port())
        .setURI("/ready")
        .setTimeout(ATTEMPT_TIMEOUT_MS);
    http.request(request)
        .compose(req -> req.send())
        .onComplete(answer -> {
          if (answer.succeeded() && answer.result().statusCode() == 200) {
            ready.tryComplete();
          } else if (System.nanoTime() >= deadline) {
            ready.tryFail(timeout.get());
          } else {
            vertx.setTimer(POLL_INTERVAL_MS, id -> poll(address, deadline, ready, timeout));
          }
        });
  }

  Future<Void> close() {
    return http.close();
  }
}
