package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One large message in many small fragments, echoed frame by frame by a backend (as the shipped
 * handler echoes): Autobahn's cases 9.3 and 9.4 through the gateway. The echo is read while the
 * fragments are still being sent, as a real client would.
 */
public final class FragmentedEcho {

    private FragmentedEcho() {}

    /** Sends {@code fragments} frames of {@code size} bytes of 'a' as one message; fails unless all of it comes back, in time. */
    public static void assertEchoedWhole(RawWebSocket client, int opcode, int fragments, int size, long withinSeconds)
            throws Exception {
        byte[] fragment = new byte[size];
        Arrays.fill(fragment, (byte) 'a');
        CompletableFuture<long[]> echoed = CompletableFuture.supplyAsync(() -> readMessage(client));
        for (int i = 0; i < fragments; i++) {
            client.send(i == fragments - 1, i == 0 ? opcode : RawWebSocket.CONTINUATION, fragment);
        }
        long[] got = echoed.get(withinSeconds, TimeUnit.SECONDS);
        assertEquals((long) size * fragments, got[0], "every byte back");
        assertEquals(opcode, (int) got[1], "its type kept");
    }

    /** Bytes and the first frame's opcode of the next whole data message. */
    private static long[] readMessage(RawWebSocket client) {
        try {
            long bytes = 0;
            int opcode = -1;
            while (true) {
                RawWebSocket.Frame frame = client.nextIgnoringPings();
                if (frame == null) {
                    throw new AssertionError("the connection ended after " + bytes + " bytes of the echo");
                }
                for (byte b : frame.payload()) {
                    if (b != 'a') {
                        throw new AssertionError("a byte changed in the echo after " + bytes + " bytes");
                    }
                }
                opcode = opcode < 0 ? frame.opcode() : opcode;
                bytes += frame.payload().length;
                if (frame.fin()) {
                    return new long[] {bytes, opcode};
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
