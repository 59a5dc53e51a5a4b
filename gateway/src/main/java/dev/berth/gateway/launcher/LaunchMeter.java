package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import java.time.Duration;

/** Counts and times launches, by route and outcome (metrics/ implements it), for {@link MeteredLauncher}. */
public interface LaunchMeter {

    /** A launch ended with a ready backend after {@code took}. */
    void launchSucceeded(RouteConfig route, Duration took);

    /** A launch failed with {@code failure} after {@code took}. */
    void launchFailed(RouteConfig route, Failure failure, Duration took);
}
