package dev.berth.gateway.pipe;

/**
 * How a pipe ended: the side whose socket closed first, and the close code and reason it closed
 * with ({@code code} is null when the connection dropped without a close frame).
 */
public record PipeEnd(Side side, Short code, String reason) {

  public enum Side { CLIENT, BACKEND }

  @Override
  public String toString() {
    String who = side == Side.CLIENT ? "client" : "backend";
    return code == null ? who + " connection dropped" : who + " closed with " + code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")");
  }
}
