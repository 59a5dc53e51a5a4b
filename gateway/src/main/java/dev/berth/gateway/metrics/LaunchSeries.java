package dev.berth.gateway.metrics;

import dev.berth.gateway.failure.Failure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code berth_launches_total{route,outcome}} and {@code berth_launch_duration_seconds{route,outcome}}:
 * registered up front for success and each failure a launch can end with ({@link Failure#endsLaunch()}),
 * not for every failure Berth knows (a refusal or a session's end never ends a launch, and each
 * outcome costs a histogram per route).
 */
final class LaunchSeries {

    static final String SUCCESS = "success";

    /** success, then the tags of the failures a launch can end with. */
    static final List<String> OUTCOMES = outcomes();

    private record Series(Counter count, Timer duration) {}

    private final MeterRegistry registry;
    /** route → outcome → its series; written when a route is added or an unexpected outcome comes. */
    private final Map<String, Map<String, Series>> byRoute = new ConcurrentHashMap<>();

    LaunchSeries(MeterRegistry registry) {
        this.registry = registry;
    }

    void routeAdded(String route) {
        Map<String, Series> byOutcome = new ConcurrentHashMap<>();
        OUTCOMES.forEach(outcome -> byOutcome.put(outcome, register(route, outcome)));
        byRoute.putIfAbsent(route, byOutcome);
    }

    /** @param outcome {@link #SUCCESS} or a {@link Failure#tag()} */
    void record(String route, String outcome, Duration took) {
        Series series = byRoute.computeIfAbsent(route, r -> new ConcurrentHashMap<>())
                // A failure no launcher raises today still counts, registered when it first comes.
                .computeIfAbsent(outcome, o -> register(route, o));
        series.count().increment();
        series.duration().record(took);
    }

    private Series register(String route, String outcome) {
        return new Series(
                Counter.builder("berth.launches")
                        .description("Backend launches by outcome")
                        .tags("route", route, "outcome", outcome)
                        .register(registry),
                Timer.builder("berth.launch.duration")
                        .description("Time from launch request to a ready backend, or to the failure")
                        .tags("route", route, "outcome", outcome)
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(50))
                        .maximumExpectedValue(Duration.ofMinutes(2))
                        .register(registry));
    }

    private static List<String> outcomes() {
        List<String> outcomes = new ArrayList<>();
        outcomes.add(SUCCESS);
        for (Failure failure : Failure.values()) {
            if (failure.endsLaunch()) {
                outcomes.add(failure.tag());
            }
        }
        return List.copyOf(outcomes);
    }
}
