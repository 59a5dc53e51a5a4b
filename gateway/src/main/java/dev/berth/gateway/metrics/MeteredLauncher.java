package dev.berth.gateway.metrics;

import dev.berth.gateway.launcher.Backend;
import dev.berth.gateway.launcher.ForwardingLauncher;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.LaunchRequest;
import dev.berth.gateway.launcher.Launcher;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.logging.Logger;

/** Records every launch's outcome and duration, and logs it, around any launcher. */
public final class MeteredLauncher extends ForwardingLauncher {

  private static final Logger LOG = Logger.getLogger(MeteredLauncher.class.getName());

  private final GatewayMetrics metrics;

  public MeteredLauncher(Launcher launcher, GatewayMetrics metrics) {
    super(launcher);
    this.metrics = metrics;
  }

  @Override
  public Future<Backend> launch(LaunchRequest request) {
    long started = System.nanoTime();
    return launcher.launch(request).onComplete(outcome -> {
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      if (outcome.succeeded()) {
        metrics.launchFinished(request.route(), GatewayMetrics.SUCCESS, took);
        LOG.info("launch session " + request.sessionKey() + " on " + request.route().name() + ": ready in "
            + took.toMillis() + "ms (" + outcome.result().description() + ")");
      } else {
        Failure failure = FailureException.wrap(outcome.cause(), Failure.START_FAILED, "launch").failure();
        metrics.launchFinished(request.route(), failure.tag(), took);
        LOG.warning("launch session " + request.sessionKey() + " on " + request.route().name() + ": "
            + failure.tag() + " after " + took.toMillis() + "ms: " + outcome.cause().getMessage());
      }
    });
  }

}
