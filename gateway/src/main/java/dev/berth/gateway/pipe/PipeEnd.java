package dev.berth.gateway.pipe;

/**
 * How a pipe ended: the side whose socket closed first, and the close code and reason it closed
 * with ({@code code} is null when the connection dropped without a close frame).
 */
public record PipeEnd(Side side, Short code, String reason) {

  public enum Side { CLIENT, BACKEND }

  public boolean abnormal() {
    return code == null;
  }
}
