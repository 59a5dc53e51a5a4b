package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every launch's outcome reaches the meter, by route: success, or the failure it ended with. */
class MeteredLauncherTest {

    @TempDir
    Path dir;

    private final List<String> recorded = new ArrayList<>();
    private final LaunchMeter meter = new LaunchMeter() {
        @Override
        public void launchSucceeded(RouteConfig route, Duration took) {
            recorded.add(route.name() + " success");
        }

        @Override
        public void launchFailed(RouteConfig route, Failure failure, Duration took) {
            recorded.add(route.name() + " " + failure.tag());
        }
    };

    /** A launcher whose launches end as {@code outcome} says. */
    private static Launcher launching(Future<Backend> outcome) {
        return new ForwardingLauncher(new FixedLauncher()) {
            @Override
            public Future<Backend> launch(LaunchRequest request) {
                return outcome;
            }
        };
    }

    @Test
    void successesAndFailuresAreRecordedByRoute() throws Exception {
        LaunchRequest request = new LaunchRequest("k", TestRoutes.route(dir, "r", "v1"));
        Backend backend = new Backend(
                "stub backend", "k", "r", "v1", null, Promise.<String>promise().future(), Future::succeededFuture);
        new MeteredLauncher(launching(Future.succeededFuture(backend)), meter).launch(request);
        new MeteredLauncher(launching(Future.failedFuture(new FailureException(Failure.READY_TIMEOUT, "slow"))), meter)
                .launch(request);
        new MeteredLauncher(launching(Future.failedFuture(new IllegalStateException("odd"))), meter).launch(request);
        assertEquals(
                List.of("r success", "r " + Failure.READY_TIMEOUT.tag(), "r " + Failure.START_FAILED.tag()), recorded);
    }
}
