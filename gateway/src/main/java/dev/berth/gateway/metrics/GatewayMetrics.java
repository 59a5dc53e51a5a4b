package dev.berth.gateway.metrics;

import dev.berth.gateway.config.ConfigReloader;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.edge.ConnectionMeter;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.launcher.EngineStatus;
import dev.berth.gateway.launcher.EngineWatch;
import dev.berth.gateway.launcher.LaunchMeter;
import dev.berth.gateway.pipe.Direction;
import dev.berth.gateway.pool.PoolMeter;
import dev.berth.gateway.session.SessionMeter;
import dev.berth.gateway.session.SessionState;
import dev.berth.gateway.session.Sessions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The gateway's metrics, behind domain methods. Every series is registered up front (all routes,
 * outcomes, states, failures and directions), so a scrape shows zeros rather than missing lines,
 * and the frame path only touches pre-resolved counters. Names are listed in docs/operations.md (with
 * the alerts on them) and docs/architecture.md.
 */
public final class GatewayMetrics
        implements SessionMeter,
                EngineWatch,
                PoolMeter,
                ConnectionMeter,
                LaunchMeter,
                ConfigReloader.Meter,
                AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RuntimeSeries runtime = new RuntimeSeries(registry);
    private final LaunchSeries launches = new LaunchSeries(registry);
    private final Map<ConfigReloader.Meter.Outcome, Counter> reloads =
            new EnumMap<>(ConfigReloader.Meter.Outcome.class);
    /** When the config file was last read and found good: at start, then by every good reload. */
    private final AtomicLong lastGoodLoadMillis = new AtomicLong(System.currentTimeMillis());

    private final Counter resumeReplays;
    private final Counter resumeReplayedMessages;
    private final Map<String, Map<SessionState, Counter>> transitions = new ConcurrentHashMap<>();
    private final Map<String, Map<Failure, Counter>> ends = new ConcurrentHashMap<>();
    private final Map<String, Map<Failure, Counter>> refusals = new ConcurrentHashMap<>();
    private final Map<Direction, Counter> frames = new EnumMap<>(Direction.class);
    private final Map<Direction, Counter> bytes = new EnumMap<>(Direction.class);
    private final Counter[] attachments = new Counter[2];
    private final Counter eventStreamReconnects;
    private final Map<Failure, Counter> connectionRefusals = new EnumMap<>(Failure.class);
    private final Map<String, Counter> poolHits = new ConcurrentHashMap<>();
    private final Map<String, Counter> poolMisses = new ConcurrentHashMap<>();
    private final Map<String, Timer> poolRefills = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Timer>> startPhases = new ConcurrentHashMap<>();
    private final MultiGauge sessionsByVersion;
    private final MultiGauge canaryBraked;

    public GatewayMetrics(List<RouteConfig> routes, Supplier<Number> activeSessions) {
        Gauge.builder("berth.sessions.active", activeSessions)
                .description("Sessions this gateway holds, with or without a client attached")
                .register(registry);
        routes.forEach(route -> routeAdded(route.name()));
        sessionsByVersion = MultiGauge.builder("berth.sessions.by.version")
                .description(
                        "Live sessions by route and version; role: route (new sessions start on it), canary, or draining")
                .register(registry);
        canaryBraked = MultiGauge.builder("berth.canary.braked")
                .description("1 while a route's canary is braked (it takes no new session), else 0")
                .register(registry);
        for (Direction direction : Direction.values()) {
            frames.put(
                    direction,
                    Counter.builder("berth.frames")
                            .description("Websocket data frames forwarded")
                            .tag("direction", direction.tag())
                            .register(registry));
            bytes.put(
                    direction,
                    Counter.builder("berth.frame.bytes")
                            .description("Websocket payload bytes forwarded")
                            .baseUnit("bytes")
                            .tag("direction", direction.tag())
                            .register(registry));
        }
        for (boolean onPipeLoop : new boolean[] {true, false}) {
            attachments[onPipeLoop ? 1 : 0] = Counter.builder("berth.client.attachments")
                    .description(
                            "Clients attached to their session's pipe, by whether they arrived on the pipe's event loop")
                    .tag("loop", onPipeLoop ? "same" : "other")
                    .register(registry);
        }
        eventStreamReconnects = Counter.builder("berth.engine.event.stream.reconnects")
                .description("Times the engine's event stream broke and was opened again")
                .register(registry);
        resumeReplays = Counter.builder("berth.resume.replays")
                .description("Resume-protocol clients back on their session that were sent messages again "
                        + "(written to a connection that dropped before they were acknowledged)")
                .register(registry);
        resumeReplayedMessages = Counter.builder("berth.resume.replayed.messages")
                .description("Backend messages sent again to resume-protocol clients that came back")
                .register(registry);
        for (ConfigReloader.Meter.Outcome outcome : ConfigReloader.Meter.Outcome.values()) {
            reloads.put(
                    outcome,
                    Counter.builder("berth.config.reloads")
                            .description("Config file reloads (file change, SIGHUP, admin API), by outcome: applied, "
                                    + "unchanged, or rejected (the config in force stays)")
                            .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
                            .register(registry));
        }
        Gauge.builder("berth.config.last.reload.success.timestamp.seconds", lastGoodLoadMillis, ms -> ms.get() / 1000.0)
                .description("When the config file was last loaded and found good (Unix time): at start, then by "
                        + "each applied or unchanged reload")
                .register(registry);
        for (Failure limit : List.of(Failure.TOO_MANY_CONNECTIONS, Failure.CLIENT_CONNECTION_LIMIT)) {
            connectionRefusals.put(
                    limit,
                    Counter.builder("berth.connections.refused")
                            .description(
                                    "Requests refused for a connection limit, before any route saw them, by reason")
                            .tag("reason", limit.tag())
                            .register(registry));
        }
    }

    /** The engine's state gauges ({@code berth_engine_state{state}}: 1 for the state it is in) and stalled calls. */
    public void engine(Supplier<EngineStatus> status) {
        for (EngineStatus.State state : EngineStatus.State.values()) {
            Gauge.builder("berth.engine.state", () -> status.get().state() == state ? 1 : 0)
                    .description(
                            "1 for the state the engine is in: up, down (refuses or fails calls), stalled (calls hang)")
                    .tag("state", state.tag())
                    .register(registry);
        }
        Gauge.builder("berth.engine.calls.stalled", () -> status.get().stalledCalls())
                .description("Engine calls running past docker.stallAfter (plus the stop timeout for a stop)")
                .register(registry);
    }

    @Override
    public void connectionsOpen(Supplier<Number> open) {
        Gauge.builder("berth.connections.open", open)
                .description("Client connections open at the edge, websockets included")
                .register(registry);
    }

    @Override
    public void connectionRefused(Failure reason) {
        connectionRefusals.get(reason).increment();
    }

    /** Registers every series of a route (at start, or when a reload adds it); a route already known is left as is. */
    public void routeAdded(String route) {
        if (transitions.containsKey(route)) {
            return;
        }
        launches.routeAdded(route);
        Map<SessionState, Counter> byState = new EnumMap<>(SessionState.class);
        for (SessionState state : SessionState.values()) {
            byState.put(
                    state,
                    Counter.builder("berth.session.transitions")
                            .description("Sessions entering each state")
                            .tags("route", route, "state", state.name().toLowerCase(Locale.ROOT))
                            .register(registry));
        }
        transitions.put(route, byState);
        // Up front only the reasons each can count, so a scrape is not mostly zeros that cannot move.
        Map<Failure, Counter> endsByReason = new EnumMap<>(Failure.class);
        Map<Failure, Counter> refusalsByReason = new EnumMap<>(Failure.class);
        for (Failure failure : Failure.values()) {
            if (failure.endsSession()) {
                endsByReason.put(failure, endCounter(route, failure));
            }
            if (failure.refusesUpgrade()) {
                refusalsByReason.put(failure, refusalCounter(route, failure));
            }
        }
        ends.put(route, endsByReason);
        refusals.put(route, refusalsByReason);
        poolHits.put(
                route,
                Counter.builder("berth.pool.claims")
                        .description("New sessions that asked the warm pool")
                        .tags("route", route, "outcome", "hit")
                        .register(registry));
        poolMisses.put(
                route,
                Counter.builder("berth.pool.claims")
                        .description("New sessions that asked the warm pool")
                        .tags("route", route, "outcome", "empty")
                        .register(registry));
        poolRefills.put(
                route,
                Timer.builder("berth.pool.refill.duration")
                        .description("From a pool backend's launch to ready and dialled")
                        .tags("route", route)
                        .publishPercentileHistogram()
                        .register(registry));
        Map<String, Timer> phases = new HashMap<>();
        for (String phase : START_PHASES) {
            phases.put(
                    phase,
                    Timer.builder("berth.session.start.duration")
                            .description(
                                    "A new session's start, by phase: backend (pool claim or launch), upstream (dial), "
                                            + "handshake (to the 101), first_frame (to the first backend frame on the client), total")
                            .tags("route", route, "phase", phase)
                            .publishPercentileHistogram()
                            .minimumExpectedValue(Duration.ofMillis(1))
                            .maximumExpectedValue(Duration.ofMinutes(2))
                            .register(registry));
        }
        startPhases.put(route, phases);
    }

    /** The phases of {@link #sessionStartPhase}. */
    public static final List<String> START_PHASES = List.of("backend", "upstream", "handshake", "first_frame", "total");

    @Override
    public void launchSucceeded(RouteConfig route, Duration took) {
        launches.record(route.name(), LaunchSeries.SUCCESS, took);
    }

    @Override
    public void launchFailed(RouteConfig route, Failure failure, Duration took) {
        launches.record(route.name(), failure.tag(), took);
    }

    @Override
    public void reloaded(ConfigReloader.Meter.Outcome outcome) {
        reloads.get(outcome).increment();
        if (outcome != ConfigReloader.Meter.Outcome.REJECTED) {
            lastGoodLoadMillis.set(System.currentTimeMillis());
        }
    }

    @Override
    public void transition(String route, SessionState state) {
        transitions.get(route).get(state).increment();
    }

    @Override
    public void ended(String route, Failure reason) {
        Counter counter = ends.get(route).get(reason);
        (counter == null ? endCounter(route, reason) : counter).increment();
    }

    @Override
    public void refused(String route, Failure reason) {
        Counter counter = refusals.get(route).get(reason);
        (counter == null ? refusalCounter(route, reason) : counter).increment();
    }

    /** Registered once, then found: also for a reason not expected, which still counts. */
    private Counter endCounter(String route, Failure reason) {
        return Counter.builder("berth.sessions.ended")
                .description("Sessions ended, by reason")
                .tags("route", route, "reason", reason.tag())
                .register(registry);
    }

    private Counter refusalCounter(String route, Failure reason) {
        return Counter.builder("berth.refusals")
                .description("Websocket upgrades refused before the handshake, by reason")
                .tags("route", route, "reason", reason.tag())
                .register(registry);
    }

    @Override
    public void sessionStartPhase(String route, String phase, Duration took) {
        startPhases.get(route).get(phase).record(took);
    }

    @Override
    public void claimed(String route, boolean hit) {
        (hit ? poolHits : poolMisses).get(route).increment();
    }

    @Override
    public void refilled(String route, Duration took) {
        poolRefills.get(route).record(took);
    }

    @Override
    public void poolGauges(String route, Supplier<Number> idle, Supplier<Number> target, Supplier<Number> starting) {
        Gauge.builder("berth.pool.idle", idle)
                .description("Ready backends waiting in the warm pool")
                .tag("route", route)
                .register(registry);
        Gauge.builder("berth.pool.target", target)
                .description("Ready backends the warm pool aims to hold now: between its floor and ceiling, "
                        + "following recent arrivals")
                .tag("route", route)
                .register(registry);
        Gauge.builder("berth.pool.starting", starting)
                .description("Warm pool backends being started")
                .tag("route", route)
                .register(registry);
    }

    @Override
    public void eventStreamReconnecting() {
        eventStreamReconnects.increment();
    }

    @Override
    public void forwarded(Direction direction, int payloadBytes) {
        frames.get(direction).increment();
        bytes.get(direction).increment(payloadBytes);
    }

    @Override
    public void clientAttached(boolean onPipeLoop) {
        attachments[onPipeLoop ? 1 : 0].increment();
    }

    @Override
    public void resumed(long replayedMessages) {
        if (replayedMessages > 0) {
            resumeReplays.increment();
            resumeReplayedMessages.increment(replayedMessages);
        }
    }

    /**
     * Sets the version gauges from what runs now (called by the registry every second, since versions
     * come and go with reloads).
     */
    public void versions(Sessions.Versions now) {
        List<MultiGauge.Row<?>> sessions = new ArrayList<>();
        Map<String, String> roles = new HashMap<>();
        now.routes().forEach(route -> roles.put(route.name() + "@" + route.version(), "route"));
        now.canaries().forEach(canary -> roles.put(canary.route() + "@" + canary.canaryVersion(), "canary"));
        now.live()
                .forEach((route, byVersion) -> byVersion.forEach((version, count) -> sessions.add(MultiGauge.Row.of(
                        Tags.of(
                                "route",
                                route,
                                "version",
                                version,
                                "role",
                                roles.getOrDefault(route + "@" + version, "draining")),
                        count))));
        sessionsByVersion.register(sessions, true);
        canaryBraked.register(
                now.canaries().stream()
                        .<MultiGauge.Row<?>>map(canary -> MultiGauge.Row.of(
                                Tags.of("route", canary.route(), "version", canary.canaryVersion()),
                                canary.brakedBecause() == null ? 0 : 1))
                        .toList(),
                true);
    }

    /** Lets go of what the JVM binders hold (GC listeners); the series stay as they are. */
    @Override
    public void close() {
        runtime.close();
    }

    /** The Prometheus text exposition of every series. */
    public String scrape() {
        return registry.scrape();
    }

    /** Answers a scrape: mounted at {@code /metrics} on the edge or, with {@code admin.metrics}, the admin port. */
    public Handler<RoutingContext> page() {
        return ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(scrape());
    }
}
