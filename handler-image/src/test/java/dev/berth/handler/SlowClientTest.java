package dev.berth.handler;

import static dev.berth.handler.TestClient.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A client that stops reading stops the handler reading from it, whatever it sends (data, commands,
 * pings), so the handler's memory stays bounded; once the client reads again, everything arrives,
 * in order. Apart from {@link HandlerServerTest} so that the two run side by side.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SlowClientTest extends HandlerServerFixture {

    @Test
    void echoPausesForAClientThatStopsReadingAndLosesNothing(Vertx vertx) throws Exception {
        start(vertx, BASE);
        TestClient client = connect(vertx);
        client.nextOfType("hello");
        client.socket().pause(); // stop reading: the server's write queue fills up
        int frames = 256; // 64 MiB: far more than socket buffers and inbound queues can absorb
        byte[] chunk = new byte[256 * 1024];
        List<io.vertx.core.Future<Void>> writes = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            chunk[0] = (byte) i;
            writes.add(client.socket().writeFrame(WebSocketFrame.binaryFrame(Buffer.buffer(chunk.clone()), true)));
        }
        Thread.sleep(500);
        assertTrue(state.framesReceived() < frames, "server stopped reading: " + state.framesReceived());
        client.socket().resume();
        for (int i = 0; i < frames; i++) {
            TestClient.Frame echo = client.nextFrame();
            assertEquals(chunk.length, echo.payload().length());
            assertEquals((byte) i, echo.payload().getByte(0), "frames come back in order");
        }
        await(io.vertx.core.Future.all(writes));
        assertEquals(frames, state.framesReceived());
    }

    /**
     * A client that sends commands and never reads (200,000 {"cmd":"state"}, a ping before every
     * thousand) stops the handler reading, as the echo does: replies wait while the writer's backlog
     * is over its high-water mark, so the handler's memory stays bounded (without the wait it queued
     * all 54 MB of replies). Once the client reads, every reply and pong arrives, in order.
     */
    @Test
    void commandRepliesWaitForAClientThatDoesNotReadAndAllArriveInOrder(Vertx vertx) throws Exception {
        start(vertx, BASE);
        int blocks = 200;
        int perBlock = 1_000;
        byte[] stateCommand =
                RawClient.frame(true, RawClient.TEXT, "{\"cmd\":\"state\"}".getBytes(StandardCharsets.US_ASCII));
        try (RawClient raw = RawClient.connect(port, 64 << 10)) {
            assertTrue(raw.read().text().startsWith("{\"type\":\"hello\""));
            FrameWriter writer = server.openConnections().get(0).writer();
            Thread sender = sendInBackground(raw, blocks, k -> {
                byte[][] frames = new byte[perBlock + 1][];
                frames[0] = RawClient.frame(
                        true, RawClient.PING, ByteBuffer.allocate(4).putInt(k).array());
                for (int i = 1; i <= perBlock; i++) {
                    frames[i] = stateCommand;
                }
                return frames;
            });
            long pingsRead = awaitHandlerStalled();
            assertBacklogBounded(writer);
            assertTrue(
                    pingsRead < blocks, "the handler stopped reading: " + pingsRead + " of " + blocks + " pings read");

            for (int k = 0; k < blocks; k++) {
                RawClient.Frame pong = raw.read();
                if (pong.opcode() != RawClient.PONG
                        || ByteBuffer.wrap(pong.payload()).getInt() != k) {
                    fail("expected pong " + k + ", got opcode " + pong.opcode() + " " + pong.text());
                }
                String expected = "\"pingsReceived\":" + (k + 1) + ",";
                for (int i = 0; i < perBlock; i++) {
                    RawClient.Frame reply = raw.read();
                    if (reply.opcode() != RawClient.TEXT
                            || !reply.text().startsWith("{\"type\":\"state\"")
                            || !reply.text().contains(expected)) {
                        fail("reply " + i + " after pong " + k + ": expected a state with " + expected + ", got "
                                + reply.text());
                    }
                }
            }
            sender.join(TestClient.WAIT_SECONDS * 1000);
            assertFalse(sender.isAlive(), "every command was written");
            assertBacklogBounded(writer);
            raw.sendClose(1000, new byte[0]);
            assertEquals(1000, raw.readToEnd().close().closeCode());
        }
    }

    /** As {@link #commandRepliesWaitForAClientThatDoesNotReadAndAllArriveInOrder}, for 200,000 pings. */
    @Test
    void pongsWaitForAClientThatDoesNotReadAndAllArriveInOrder(Vertx vertx) throws Exception {
        start(vertx, BASE);
        int blocks = 200;
        int perBlock = 1_000;
        try (RawClient raw = RawClient.connect(port, 64 << 10)) {
            assertTrue(raw.read().text().startsWith("{\"type\":\"hello\""));
            FrameWriter writer = server.openConnections().get(0).writer();
            Thread sender = sendInBackground(raw, blocks, k -> {
                byte[][] frames = new byte[perBlock][];
                for (int i = 0; i < perBlock; i++) {
                    frames[i] = RawClient.frame(
                            true,
                            RawClient.PING,
                            ByteBuffer.allocate(125).putInt(k * perBlock + i).array());
                }
                return frames;
            });
            long pingsRead = awaitHandlerStalled();
            assertBacklogBounded(writer);
            assertTrue(pingsRead < blocks * perBlock, "the handler stopped reading: " + pingsRead + " pings read");

            for (int n = 0; n < blocks * perBlock; n++) {
                RawClient.Frame pong = raw.read();
                if (pong.opcode() != RawClient.PONG
                        || pong.payload().length != 125
                        || ByteBuffer.wrap(pong.payload()).getInt() != n) {
                    fail("expected pong " + n + ", got opcode " + pong.opcode() + " of " + pong.payload().length
                            + " bytes");
                }
            }
            sender.join(TestClient.WAIT_SECONDS * 1000);
            assertFalse(sender.isAlive(), "every ping was written");
            assertEquals(blocks * perBlock, state.pingsReceived());
            assertBacklogBounded(writer);
        }
    }

    /** Writes {@code blocks.apply(k)} for k from 0 to {@code count - 1}, each in one write, on a thread of its own (the writes block once the handler stops reading). */
    private static Thread sendInBackground(RawClient raw, int count, IntFunction<byte[][]> blocks) {
        Thread sender = new Thread(
                () -> {
                    try {
                        for (int k = 0; k < count; k++) {
                            raw.sendTogether(blocks.apply(k));
                        }
                    } catch (IOException e) {
                        // the connection ended first: the test sees the replies missing
                    }
                },
                "test-sender");
        sender.setDaemon(true);
        sender.start();
        return sender;
    }

    /** Waits until the handler stops taking frames (no ping counted for 500 ms) and returns the pings it counted. */
    private long awaitHandlerStalled() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TestClient.WAIT_SECONDS);
        long last = -1;
        while (true) {
            Thread.sleep(500);
            long now = state.pingsReceived();
            if (now == last || System.nanoTime() > deadline) {
                return now;
            }
            last = now;
        }
    }

    /** The writer never held much more than its high-water mark: one frame over it at most. */
    private static void assertBacklogBounded(FrameWriter writer) {
        long bound = FrameWriter.HIGH_WATER + 4096;
        assertTrue(
                writer.peakQueuedBytes() <= bound,
                "the handler's backlog peaked at " + writer.peakQueuedBytes() + " bytes, over " + bound);
    }
}
