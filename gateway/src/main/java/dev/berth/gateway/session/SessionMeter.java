package dev.berth.gateway.session;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.pipe.FrameMeter;

/** What sessions report for metrics; implemented by the gateway's metrics. */
public interface SessionMeter extends FrameMeter {

  /** A session on {@code route} entered {@code state}. */
  void transition(String route, Session.State state);

  /** A session on {@code route} ended, for {@code reason}. */
  void ended(String route, Failure reason);

  /** A websocket upgrade on {@code route} was refused before the handshake. */
  void refused(String route, Failure reason);
}
