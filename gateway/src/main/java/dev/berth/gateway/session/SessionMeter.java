package dev.berth.gateway.session;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.pipe.FrameMeter;

/** What sessions report for metrics; implemented by the gateway's metrics. */
public interface SessionMeter extends FrameMeter {

    /** A session on {@code route} entered {@code state}. */
    void transition(String route, SessionState state);

    /** A session on {@code route} ended, for {@code reason}. */
    void ended(String route, Failure reason);

    /** A new session on {@code route} went through one phase of its start (see GatewayMetrics.START_PHASES). */
    void sessionStartPhase(String route, String phase, java.time.Duration took);

    /** A websocket upgrade on {@code route} was refused before the handshake. */
    void refused(String route, Failure reason);
}
