package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Whose close frame ends a session, as the session keeps track of its clients on the control loop. */
class CurrentClientTest {

    private final CurrentClient client = new CurrentClient();

    private static Arrival arrival() {
        return new Arrival(null, "token", null, null);
    }

    @Test
    void theAttachedClientsEndingCloseEndsItForGood() {
        Arrival first = arrival();
        assertFalse(client.attach(first), "nobody to hand over");
        client.closedForGood(first);
        assertTrue(client.closedForGood());
    }

    @Test
    void aClientOnItsWayThatClosesForGoodCountsBeforeItIsAttached() {
        client.attach(arrival());
        client.closedForGood(arrival()); // not attached yet: the session hears of its close only later
        assertTrue(client.closedForGood());
    }

    @Test
    void theEchoOfAHandedOverClientsCloseEndsNothing() {
        Arrival older = arrival();
        client.attach(older);
        assertTrue(client.attach(arrival()), "a handover");
        client.closedForGood(older); // its echo of the 4001 it was told
        assertFalse(client.closedForGood());
    }

    @Test
    void aNewerConnectionAttachedAfterAnEndingCloseSupersedesIt() {
        Arrival ending = arrival();
        client.attach(arrival());
        client.closedForGood(ending);
        client.attach(arrival());
        assertFalse(client.closedForGood(), "the session ignores the older connection's close now");
    }

    @Test
    void theClosingConnectionAttachingItselfKeepsItsEndingClose() {
        Arrival ending = arrival();
        client.closedForGood(ending);
        client.attach(ending);
        assertTrue(client.closedForGood());
    }
}
