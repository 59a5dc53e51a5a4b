package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.RawWebSocket;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A handover in the middle of a message: the older client got its first fragments, the newer one
 * gets the message again, whole, from its first fragment (docs/sessions.md, "Handover").
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HandoverTest extends FakeLauncherGatewayTest {

    @Test
    void aMessageWhoseFirstFragmentsWentToTheOlderClientIsWrittenAgainWholeToTheNewerOne() throws Exception {
        gateway = gatewayOn().start(vertx);
        try (RawWebSocket older = RawWebSocket.open(gateway.port, Map.of())) {
            assertTrue(older.nextIgnoringPings().text().contains("\"hello\""));
            String token = older.headers.get("berth-session");
            var backend = launcher.backends().get(0);
            backend.pushFrame(WebSocketFrame.textFrame("part one, ", false));
            RawWebSocket.Frame first = older.nextIgnoringPings();
            assertEquals(RawWebSocket.TEXT, first.opcode());
            assertFalse(first.fin(), "the older client has the message's first fragment only");
            try (RawWebSocket newer = RawWebSocket.open(gateway.port, Map.of("Cookie", "berth_session=" + token))) {
                assertEquals(4001, older.awaitClose().closeCode(), "the older client was replaced");
                backend.pushFrame(WebSocketFrame.continuationFrame(Buffer.buffer("part two"), true));
                StringBuilder message = new StringBuilder();
                RawWebSocket.Frame frame = newer.nextIgnoringPings();
                assertEquals(RawWebSocket.TEXT, frame.opcode(), "a message, begun anew");
                while (true) {
                    message.append(new String(frame.payload(), StandardCharsets.UTF_8));
                    if (frame.fin()) {
                        break;
                    }
                    frame = newer.nextIgnoringPings();
                    assertEquals(RawWebSocket.CONTINUATION, frame.opcode());
                }
                assertEquals("part one, part two", message.toString(), "whole, from its first fragment");
            }
        }
    }
}
