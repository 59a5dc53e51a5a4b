package dev.berth.gateway.launcher;

import java.util.Locale;

/**
 * The engine as its launcher last saw it, for admission, {@code /health} and metrics.
 *
 * @param state up, down (it refuses connections or fails calls: launches fail fast on their own),
 *     or stalled (it takes calls and does not answer them: launches would only queue behind them,
 *     so new sessions are refused with {@code engine_unavailable} until it answers again)
 * @param detail why, for the log and the operator; empty when up
 * @param stalledCalls engine calls running past what they should take
 */
public record EngineStatus(State state, String detail, int stalledCalls) {

    public enum State {
        UP,
        DOWN,
        STALLED;

        /** As in /health and the metric label: "up", "down", "stalled". */
        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A launcher without an engine (process, fixed): nothing to be down. */
    public static final EngineStatus NO_ENGINE = new EngineStatus(State.UP, "", 0);

    public boolean stalled() {
        return state == State.STALLED;
    }
}
