package dev.berth.gateway.pipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.gateway.launcher.RawBackendLauncher;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The validator against the JDK's strict UTF-8 decoder, on messages cut into fragments at random
 * places, in heap and direct buffers: the same verdict, and after every fragment the same count
 * of bytes that begin an unfinished code point.
 */
class Utf8ValidatorTest {

    private static final String SAMPLES = "a\u00e9\u20ac\ud83d\ude00z"; // 1, 2, 3 and 4 bytes
    private final Random random = new Random(26);

    @Test
    void agreesWithTheJdkDecoderOnMixedTextCutAnywhere() {
        for (int round = 0; round < 3000; round++) {
            byte[] message = message(round % 3 == 0);
            checkInFragments(message, round % 2 == 0);
        }
    }

    @Test
    void longAsciiRunsWithOneBadByteAnywhereAreRefused() {
        for (int bad = 0; bad < 40; bad++) {
            byte[] message = new byte[40];
            java.util.Arrays.fill(message, (byte) 'x');
            message[bad] = (byte) 0xC0;
            checkInFragments(message, bad % 2 == 0);
        }
    }

    private byte[] message(boolean corrupt) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(60);
        for (int i = 0; i < length; i++) {
            if (random.nextInt(4) == 0) {
                text.append("abcdefghijklmnop", 0, random.nextInt(17)); // ASCII runs, some over 8 bytes
            } else {
                int at = random.nextInt(5);
                text.appendCodePoint(SAMPLES.codePointAt(SAMPLES.offsetByCodePoints(0, at)));
            }
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        if (corrupt && bytes.length > 0) {
            bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    private void checkInFragments(byte[] message, boolean direct) {
        Utf8Validator validator = new Utf8Validator();
        boolean accepted = true;
        int at = 0;
        while (at < message.length && accepted) {
            int length = Math.min(message.length - at, 1 + random.nextInt(20));
            accepted = validator.accept(buffer(message, at, length, direct));
            at += length;
            if (accepted) {
                assertEquals(unfinishedTail(message, at), validator.pending(), "pending after " + at + " bytes");
            }
        }
        boolean valid = accepted && validator.complete();
        assertEquals(
                RawBackendLauncher.validUtf8(message),
                valid,
                () -> "verdict on " + java.util.HexFormat.of().formatHex(message));
    }

    private static Buffer buffer(byte[] bytes, int from, int length, boolean direct) {
        if (!direct) {
            return Buffer.buffer().appendBytes(bytes, from, length);
        }
        return BufferInternal.buffer(Unpooled.directBuffer(length).writeBytes(bytes, from, length));
    }

    /** Bytes at the end of the first {@code length} that begin a code point finished only later (valid prefixes only). */
    private static int unfinishedTail(byte[] bytes, int length) {
        int start = length;
        while (start > 0 && (bytes[start - 1] & 0xC0) == 0x80 && length - start < 3) {
            start--;
        }
        if (start > 0 && (bytes[start - 1] & 0xC0) == 0xC0) {
            int lead = bytes[start - 1] & 0xFF;
            int size = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            int have = length - start + 1;
            return have < size ? have : 0;
        }
        return 0;
    }
}
