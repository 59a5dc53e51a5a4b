package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.WebSocketFrame;
import org.junit.jupiter.api.Test;

/** The resume protocol's memory of a session, on its own: the rules docs/sessions.md states, without a socket. */
class ResumeLedgerTest {

    private final Outbox outbox = new Outbox(1 << 20, 1000);
    private final ResumeLedger ledger = new ResumeLedger(outbox);

    @Test
    void clientMessagesGoOnInOrderOnlyAndOnesSentAgainAreDropped() {
        assertEquals(ResumeLedger.Arrival.NEXT, ledger.arrived(1));
        assertEquals(ResumeLedger.Arrival.NEXT, ledger.arrived(2));
        assertEquals(ResumeLedger.Arrival.AGAIN, ledger.arrived(2), "sent again after a reconnect");
        assertEquals(ResumeLedger.Arrival.AGAIN, ledger.arrived(1));
        assertEquals(ResumeLedger.Arrival.OUT_OF_ORDER, ledger.arrived(4), "one missing");
        assertEquals(2, ledger.clientSeq(), "a message out of order does not count");
    }

    @Test
    void theResumeAnswerSaysHowFarTheClientReachedAndWhichStreamThisIs() {
        ledger.arrived(1);
        String[] answer = ledger.resumeAnswer().split(" ");
        assertEquals("resume", answer[0]);
        assertEquals("1", answer[1]);
        assertEquals(12, answer[2].length(), "six random bytes in hex");
        assertNotEquals(ledger.resumeAnswer(), new ResumeLedger(outbox).resumeAnswer(), "a new stream per pipe");
    }

    @Test
    void aClientCanAcknowledgeOnlyWhatWasWrittenWhole() {
        outbox.rewind(true);
        outbox.add(WebSocketFrame.textFrame("one", true));
        outbox.add(WebSocketFrame.textFrame("two", true));
        outbox.take();
        assertFalse(ledger.acknowledged(2), "message 2 was never written");
        assertTrue(ledger.acknowledged(1));
        assertEquals(1, outbox.frames(), "message 1 is let go, message 2 is still held");
    }

    @Test
    void aResumeOfThisStreamAcknowledgesAndOneOfAnotherAcknowledgesNothing() {
        outbox.rewind(true);
        outbox.add(WebSocketFrame.textFrame("one", true));
        outbox.take();
        String stream = ledger.resumeAnswer().split(" ")[2];
        assertTrue(ledger.resumedFrom(5, "an earlier gateway's"), "its numbers are not this stream's");
        assertEquals(1, outbox.frames());
        assertFalse(ledger.resumedFrom(5, stream), "past the last message written");
        assertTrue(ledger.resumedFrom(1, stream));
        assertEquals(0, outbox.frames());
    }
}
