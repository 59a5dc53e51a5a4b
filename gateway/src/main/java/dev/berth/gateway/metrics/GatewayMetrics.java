package dev.berth.gateway.metrics;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.launcher.LaunchFailure;
import dev.berth.gateway.pipe.Direction;
import dev.berth.gateway.pipe.FrameMeter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The gateway's metrics, behind domain methods. Every series is registered up front (all routes,
 * outcomes and directions), so a scrape shows zeros rather than missing lines, and the frame path
 * only touches pre-resolved counters.
 *
 * <p>Prometheus names: {@code berth_sessions_active}, {@code berth_launches_total{route,outcome}},
 * {@code berth_launch_duration_seconds{route,outcome}} (histogram), {@code
 * berth_frames_total{direction}}, {@code berth_frame_bytes_total{direction}}.
 */
public final class GatewayMetrics implements FrameMeter {

  public static final String SUCCESS = "success";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, Map<String, Counter>> launches = new HashMap<>();
  private final Map<String, Map<String, Timer>> launchDurations = new HashMap<>();
  private final Map<Direction, Counter> frames = new EnumMap<>(Direction.class);
  private final Map<Direction, Counter> bytes = new EnumMap<>(Direction.class);

  public GatewayMetrics(List<RouteConfig> routes, Supplier<Number> activeSessions) {
    Gauge.builder("berth.sessions.active", activeSessions)
        .description("Sessions this gateway holds, with or without a client attached")
        .register(registry);
    for (RouteConfig route : routes) {
      Map<String, Counter> byOutcome = new HashMap<>();
      Map<String, Timer> durations = new HashMap<>();
      for (String outcome : outcomes()) {
        byOutcome.put(outcome, Counter.builder("berth.launches")
            .description("Backend launches by outcome")
            .tags("route", route.name(), "outcome", outcome)
            .register(registry));
        durations.put(outcome, Timer.builder("berth.launch.duration")
            .description("Time from launch request to a ready backend, or to the failure")
            .tags("route", route.name(), "outcome", outcome)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(50))
            .maximumExpectedValue(Duration.ofMinutes(2))
            .register(registry));
      }
      launches.put(route.name(), byOutcome);
      launchDurations.put(route.name(), durations);
    }
    for (Direction direction : Direction.values()) {
      frames.put(direction, Counter.builder("berth.frames")
          .description("Websocket frames forwarded")
          .tag("direction", direction.tag())
          .register(registry));
      bytes.put(direction, Counter.builder("berth.frame.bytes")
          .description("Websocket payload bytes forwarded")
          .baseUnit("bytes")
          .tag("direction", direction.tag())
          .register(registry));
    }
  }

  private static List<String> outcomes() {
    List<String> outcomes = new ArrayList<>();
    outcomes.add(SUCCESS);
    for (LaunchFailure failure : LaunchFailure.values()) {
      outcomes.add(failure.tag());
    }
    return outcomes;
  }

  /** @param outcome {@link #SUCCESS} or a {@link LaunchFailure#tag()} */
  public void launchFinished(RouteConfig route, String outcome, Duration took) {
    launches.get(route.name()).get(outcome).increment();
    launchDurations.get(route.name()).get(outcome).record(took);
  }

  @Override
  public void forwarded(Direction direction, int payloadBytes) {
    frames.get(direction).increment();
    bytes.get(direction).increment(payloadBytes);
  }

  /** The Prometheus text exposition of every series. */
  public String scrape() {
    return registry.scrape();
  }
}
