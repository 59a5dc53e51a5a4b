package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.logging.Logger;

/** Records every launch's outcome and duration, and logs it, around any launcher. */
public final class MeteredLauncher extends ForwardingLauncher {

    private static final Logger LOG = Logger.getLogger(MeteredLauncher.class.getName());

    private final LaunchMeter meter;

    public MeteredLauncher(Launcher launcher, LaunchMeter meter) {
        super(launcher);
        this.meter = meter;
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        long started = System.nanoTime();
        return launcher.launch(request).onComplete(outcome -> {
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            if (outcome.succeeded()) {
                meter.launchSucceeded(request.route(), took);
                LOG.info("launch session " + request.sessionKey() + " on "
                        + request.route().name() + ": ready in " + took.toMillis() + "ms ("
                        + outcome.result().description() + ")");
            } else {
                Failure failure = FailureException.wrap(outcome.cause(), Failure.START_FAILED, "launch")
                        .failure();
                meter.launchFailed(request.route(), failure, took);
                LOG.warning("launch session " + request.sessionKey() + " on "
                        + request.route().name() + ": " + failure.tag() + " after " + took.toMillis() + "ms: "
                        + outcome.cause().getMessage());
            }
        });
    }
}
