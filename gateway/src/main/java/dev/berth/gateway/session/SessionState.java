package dev.berth.gateway.session;

import java.util.EnumSet;
import java.util.Set;

/**
 * The states of a {@link Session} and the moves between them (docs/sessions.md, "The state
 * machine"); a move not in the table is a bug, and {@link #requireMove} fails it loudly.
 *
 * <pre>
 *   LAUNCHING ──▶ CONNECTING ──▶ DETACHED ◀──▶ ATTACHED     (adopted sessions start at CONNECTING)
 *        └────────────┴──────────────┴────────────┴──▶ ENDING ──▶ GONE
 *        └────────────┴──────────────┴────────────┴──────────────▶ GONE   (let go: the backend keeps running)
 * </pre>
 *
 * ATTACHED to ATTACHED is a handover: a newer connection took the place of the attached one.
 */
public enum SessionState {
    /** The backend is being launched. */
    LAUNCHING,
    /** The backend runs; the gateway is opening its websocket to it. */
    CONNECTING,
    /** Piped to the backend, no client: frames are held, the grace period runs. */
    DETACHED,
    /** A client is piped to the backend. */
    ATTACHED,
    /** Closing the client and stopping the backend. */
    ENDING,
    /** Over: forgotten by the registry. */
    GONE;

    /** The moves out of this state. */
    Set<SessionState> next() {
        return switch (this) {
            case LAUNCHING -> EnumSet.of(CONNECTING, ENDING, GONE);
            case CONNECTING -> EnumSet.of(DETACHED, ENDING, GONE);
            case DETACHED -> EnumSet.of(ATTACHED, ENDING, GONE);
            case ATTACHED -> EnumSet.of(ATTACHED, DETACHED, ENDING, GONE);
            case ENDING -> EnumSet.of(GONE);
            case GONE -> EnumSet.noneOf(SessionState.class);
        };
    }

    /** Whether a client may still join a session in this state. */
    boolean live() {
        return this != ENDING && this != GONE;
    }

    /** Fails with {@link IllegalStateException} when {@code to} is not a move out of this state. */
    void requireMove(SessionState to, Object session) {
        if (!next().contains(to)) {
            throw new IllegalStateException(session + ": " + this + " -> " + to
                    + " is not a move a session makes (only " + next() + " follow " + this + ")");
        }
    }
}
