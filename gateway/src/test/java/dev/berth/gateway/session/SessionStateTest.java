package dev.berth.gateway.session;

import static dev.berth.gateway.session.SessionState.ATTACHED;
import static dev.berth.gateway.session.SessionState.CONNECTING;
import static dev.berth.gateway.session.SessionState.DETACHED;
import static dev.berth.gateway.session.SessionState.ENDING;
import static dev.berth.gateway.session.SessionState.GONE;
import static dev.berth.gateway.session.SessionState.LAUNCHING;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The state machine's table, as docs/sessions.md draws it. */
class SessionStateTest {

    @Test
    void everyLiveStateEndsOrIsLetGoAndOnlyEndingLeadsToGoneAlone() {
        for (SessionState live : EnumSet.of(LAUNCHING, CONNECTING, DETACHED, ATTACHED)) {
            assertTrue(live.live());
            assertTrue(live.next().containsAll(Set.of(ENDING, GONE)), live + " ends, or is let go of");
        }
        assertEquals(Set.of(GONE), ENDING.next());
        assertEquals(Set.of(), GONE.next());
    }

    @Test
    void aSessionMovesForwardOnlyAndBackAndForthBetweenItsClients() {
        assertEquals(Set.of(CONNECTING, ENDING, GONE), LAUNCHING.next());
        assertEquals(Set.of(DETACHED, ENDING, GONE), CONNECTING.next());
        assertEquals(Set.of(ATTACHED, ENDING, GONE), DETACHED.next());
        assertEquals(Set.of(ATTACHED, DETACHED, ENDING, GONE), ATTACHED.next(), "ATTACHED to ATTACHED: a handover");
    }

    @Test
    void aMoveNotInTheTableFailsLoudly() {
        assertDoesNotThrow(() -> ENDING.requireMove(GONE, "session k"));
        IllegalStateException wrong =
                assertThrows(IllegalStateException.class, () -> GONE.requireMove(ENDING, "session k"));
        assertEquals(
                "session k: GONE -> ENDING is not a move a session makes (only [] follow GONE)", wrong.getMessage());
        assertThrows(IllegalStateException.class, () -> ENDING.requireMove(DETACHED, "session k"));
        assertThrows(IllegalStateException.class, () -> LAUNCHING.requireMove(ATTACHED, "session k"));
    }
}
