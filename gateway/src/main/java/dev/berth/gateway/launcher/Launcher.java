package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import java.util.List;

/**
 * Starts one backend per session and finds them again. The contract every launcher (docker,
 * process, and later swarm or kubernetes) keeps:
 *
 * <ul>
 *   <li>{@link #launch} completes only once the backend answers its readiness check, or fails with
 *       a {@link dev.berth.gateway.failure.FailureException} whose failure says why; whatever a
 *       failed launch started is already cleaned up.
 *   <li>The returned {@link Backend} owns its cleanup: {@link Backend#stop()} is idempotent and
 *       treats "already gone" as done.
 *   <li>Backends carry the session key and route, so {@link #discover} can find them again by
 *       label after a gateway restart; the engine, not the gateway, is the source of truth.
 *       Pooled backends (no session yet) are found again too, with a null session key.
 * </ul>
 *
 * Launchers never block the event loop; their futures complete on the caller's context.
 */
public interface Launcher {

    /** Short name for logs and metric tags: "docker", "process". */
    String name();

    Future<Backend> launch(LaunchRequest request);

    /**
     * Running backends this launcher manages but holds no handle for: left by an earlier gateway
     * process, or by a launch whose cleanup failed. The caller adopts or stops them. Dead leftovers
     * are removed on the way. Launchers whose backends cannot outlive the gateway find none.
     */
    Future<List<Backend>> discover();

    /**
     * Records on the engine that a pooled backend (launched from {@link LaunchRequest#forPool}),
     * already claimed from its handler, is session {@code sessionKey}'s, so a restarted gateway finds
     * it as that session. The handle returned carries the session key.
     */
    default Future<Backend> claim(Backend pooled, String sessionKey) {
        return Future.failedFuture(new dev.berth.gateway.failure.FailureException(
                dev.berth.gateway.failure.Failure.START_FAILED, "launcher " + name() + " keeps no warm pool"));
    }

    /**
     * Readies the launcher for {@code routes} (at start, and before a reloaded config is swapped in):
     * what every version they run needs is there (e.g. its image), and backends of these routes are
     * this gateway's to find. Routes no longer listed stay known, since their sessions still run.
     * Fails, changing nothing, when a version cannot be launched, saying why.
     */
    default Future<Void> prepare(List<RouteConfig> routes) {
        return Future.succeededFuture();
    }

    /**
     * The backend of session {@code sessionKey} on {@code route} that another gateway holds (or held:
     * it may be gone), taken over for this one; null when the engine has none. Only one gateway holds
     * a session at a time: the previous holder sees its backend's {@link Backend#movedAway()}.
     * Launchers whose backends cannot outlive their gateway have none to take over.
     */
    default Future<Backend> takeOver(RouteConfig route, String sessionKey) {
        return Future.succeededFuture();
    }

    /**
     * What other gateways hold on the engine, by route, so that admission limits and the warm pool
     * hold across gateways. {@link Elsewhere#NONE} for launchers whose backends no other gateway
     * can see.
     */
    default Future<Elsewhere> heldElsewhere() {
        return Future.succeededFuture(Elsewhere.NONE);
    }

    /**
     * The engine as the launcher sees it now (up, down, stalled); cheap, from any thread. A stalled
     * engine takes calls and does not answer them: admission refuses new sessions meanwhile rather
     * than queue launches behind them. Launchers without an engine are always up.
     */
    default EngineStatus engineStatus() {
        return EngineStatus.NO_ENGINE;
    }

    /** Whether backends outlive this gateway process, so keeping them at shutdown makes sense. */
    boolean backendsOutliveGateway();

    /** Stops watching backends. It does not stop them: that is the session registry's call. */
    Future<Void> close();
}
