package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FlakyLink;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.ResumingClient;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.http.WebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The resume protocol as docs/sessions.md states it, held by a client that keeps no
 * de-duplication of its own ({@link ResumingClient}): after a drop, a handover or a gateway
 * restart, every data message carries the next number of its stream, none at or below what the
 * client said it has, none missing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ResumeProtocolTest extends FakeLauncherGatewayTest {

    private static List<String> numbered(String prefix, int from, int to) {
        List<String> messages = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            messages.add(prefix + i);
        }
        return messages;
    }

    @Test
    void aReconnectGetsNothingAtOrBelowWhatItSaysItHasAndMissesNothing() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FlakyLink link = new FlakyLink(vertx, gateway.port);
                ResumingClient client = new ResumingClient(vertx).ackEvery(Integer.MAX_VALUE)) {
            client.connect(link.port);
            numbered("m", 1, 10).forEach(client::send);
            assertTrue(client.receiveUntil("m", 10));
            long had = client.lastReceived(); // the hello and ten echoes, none acknowledged
            assertEquals(11, had);
            link.cut();
            client.connect(link.port); // resume 11 <stream>
            numbered("m", 11, 15).forEach(client::send);
            assertTrue(client.receiveUntil("m", 15));
            assertEquals(List.of(), client.violations(), "the replay starts after what the client has");
            List<String> expected = new ArrayList<>(numbered("m", 1, 15));
            assertEquals(
                    expected, client.received().subList(1, client.received().size()));
        }
    }

    @Test
    void overManyDropsAndHandoversEveryMessageArrivesOnceInOrder() throws Exception {
        gateway = gatewayOn().grace("30s").start(vertx);
        Random random = new Random(7);
        int sent = 0;
        try (FlakyLink link = new FlakyLink(vertx, gateway.port);
                ResumingClient client = new ResumingClient(vertx).ackEvery(7)) {
            client.connect(link.port);
            for (int round = 0; round < 40; round++) {
                int burst = 1 + random.nextInt(20);
                for (int i = 0; i < burst; i++) {
                    client.send("m" + ++sent);
                }
                client.receiveUntil("m", sent - random.nextInt(burst)); // some echoes still in flight
                if (random.nextBoolean()) {
                    link.cut();
                    client.connect(link.port);
                } else { // a handover: the new connection takes the session from the live one
                    FrameClient previous = client.connection();
                    client.connect(link.port);
                    assertEquals(4001, previous.awaitClose(), "the connection the client moved away from was replaced");
                }
            }
            assertTrue(client.receiveUntil("m", sent));
            assertEquals(List.of(), client.violations());
            assertEquals(
                    numbered("m", 1, sent),
                    client.received().subList(1, client.received().size()));
        }
    }

    /** The other ways docs/sessions.md names of breaking the protocol: each is 1002, and the session waits. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "data before resume   |            | 1 hello",
                "a gap in its numbers | resume 0 - | 2 the first was never sent",
                "an unknown message   | resume 0 - | hello there"
            })
    void eachWayOfBreakingTheProtocolIs1002AndTheSessionWaits(String how, String resume, String breaking)
            throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient breaker = FrameClient.connect(vertx, gateway.port, null, ResumingClient.SUBPROTOCOL)) {
            if (resume != null) {
                breaker.socket().writeTextMessage(resume);
                assertTrue(breaker.nextDataFrame().textData().startsWith("resume 0 "), "the gateway's answer");
            }
            breaker.socket().writeTextMessage(breaking);
            assertEquals(1002, breaker.awaitClose(), how);
            assertEquals(Failure.RESUME_PROTOCOL.publicReason(), breaker.closeReason(), how);
            try (FrameClient back =
                    FrameClient.connect(vertx, gateway.port, breaker.sessionToken(), ResumingClient.SUBPROTOCOL)) {
                back.socket().writeTextMessage("resume 0 -");
                assertTrue(
                        back.nextDataFrame().textData().startsWith("resume 0 "),
                        "nothing of the breaking message passed on");
                assertTrue(
                        back.nextDataFrame().textData().startsWith("1 "), "the backend's first message, kept for it");
            }
            assertEquals(1, launcher.launches.get(), how + ": the session waited for its client, no second launch");
        }
    }

    @Test
    void aResumeOrAckPastWhatWasWrittenIsAProtocolErrorAndTheSessionWaits() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (FrameClient liar = FrameClient.connect(vertx, gateway.port, null, ResumingClient.SUBPROTOCOL)) {
            liar.socket().writeTextMessage("resume 0 -");
            WebSocketFrame answer = liar.nextDataFrame();
            assertTrue(answer.textData().startsWith("resume 0 "), answer.textData());
            liar.nextDataFrame(); // message 1, the backend's hello
            liar.socket().writeTextMessage("ack 5");
            assertEquals(1002, liar.awaitClose(), "acknowledged messages it was never sent");
            try (FrameClient back =
                    FrameClient.connect(vertx, gateway.port, liar.sessionToken(), ResumingClient.SUBPROTOCOL)) {
                back.socket().writeTextMessage("resume 1 " + answer.textData().split(" ")[2]);
                assertTrue(back.nextDataFrame().textData().startsWith("resume 0 "), "the session waited for it");
                back.socket().writeTextMessage("1 still here");
                WebSocketFrame echo = back.nextDataFrame();
                while (echo.textData().startsWith("ack ")) {
                    echo = back.nextDataFrame();
                }
                assertEquals("2 still here", echo.textData(), "nothing at or below 1 again");
            }
        }
    }

    @Test
    void acrossAGatewayRestartTheNewStreamStartsAtOneAndTheOldMessagesAreNotRepeated() throws Exception {
        gateway = gatewayOn().onShutdown("keep").start(vertx);
        try (ResumingClient client = new ResumingClient(vertx)) {
            client.connect(gateway.port);
            numbered("before", 1, 5).forEach(client::send);
            assertTrue(client.receiveUntil("before", 5));
            gateway.close();
            assertEquals(1012, client.connection().awaitClose(), "told to reconnect");
            assertEquals(Failure.RESTARTING.publicReason(), client.connection().closeReason());
            launcher.leaveAllRunning();
            gateway = gatewayOn().sameAs(gateway).onShutdown("keep").start(vertx);
            client.connect(gateway.port);
            numbered("after", 1, 5).forEach(client::send);
            assertTrue(client.receiveUntil("after", 5));
            assertEquals(List.of(), client.violations());
            List<String> received = client.received();
            assertEquals(numbered("after", 1, 5), received.subList(received.size() - 5, received.size()));
            assertFalse(
                    received.subList(6, received.size() - 5).stream().anyMatch(text -> text.startsWith("before")),
                    "nothing of the old stream again: " + received);
        }
        // The client's 1000 reaches the session on its own loop: let it end the session before the
        // gateway (onShutdown keep) stops, or the backend is rightly kept for a next gateway.
        Await.until(
                () -> launcher.running() == 0, 10_000, "the client's 1000 ended its session and stopped its backend");
    }
}
