package dev.berth.gateway.pipe;

/** Counts what a pipe forwards; called on the event loop for every frame, so it must be cheap. */
@FunctionalInterface
public interface FrameMeter {
  void forwarded(Direction direction, int payloadBytes);
}
