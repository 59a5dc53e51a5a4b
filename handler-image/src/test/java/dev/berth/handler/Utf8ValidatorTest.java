package dev.berth.handler;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tables of well-formed and ill-formed byte sequences after Markus Kuhn's test file and Autobahn's 6.x cases. */
class Utf8ValidatorTest {

    /** Well-formed: ASCII, every sequence length at its bounds, noncharacters (valid UTF-8), an emoji. */
    static final List<String> VALID = List.of(
            "",
            "48656c6c6f", // Hello
            "cebae1bdb9cf83cebcceb5", // κόσμε
            "00",
            "7f", // lowest and highest 1 byte
            "c280",
            "dfbf", // U+0080, U+07FF
            "e0a080",
            "efbfbf", // U+0800, U+FFFF
            "ed9fbf",
            "ee8080", // U+D7FF, U+E000: either side of the surrogates
            "efbfbe", // U+FFFE, a noncharacter but valid UTF-8
            "f0908080",
            "f48fbfbf", // U+10000, U+10FFFF
            "f09f9880", // 😀
            "636166c3a920e282ac20f09f9880"); // "café € 😀"

    /** Ill-formed: overlong forms, surrogates, beyond U+10FFFF, bytes never used, stray and missing continuations. */
    static final List<String> INVALID = List.of(
            "c080",
            "c1bf", // overlong 2-byte (U+0000, U+007F)
            "e080af",
            "e09fbf", // overlong 3-byte
            "f08080af",
            "f08fbfbf", // overlong 4-byte
            "eda080",
            "edbfbf", // U+D800, U+DFFF
            "eda080edb080", // a surrogate pair encoded as two code points
            "f4908080",
            "f7bfbfbf", // U+110000, beyond
            "f888808080",
            "fc8480808080", // 5 and 6 byte forms
            "fe",
            "ff",
            "feff", // never valid
            "80",
            "bf",
            "8081", // continuation bytes with no lead
            "c241",
            "e18041",
            "f09f41", // lead byte followed by ASCII
            "cebae1bdb9cf83cebcceb5eda080656469746564", // κόσμε, a surrogate, "edited" (Autobahn 6.4)
            "c2",
            "e180",
            "f09f98", // cut off at the end
            "f48fbf"); // U+10FFFF cut off

    @Test
    void validSequencesAreAcceptedWholeSplitAnywhereAndByteByByte() {
        for (String hex : VALID) {
            byte[] bytes = HexFormat.of().parseHex(hex);
            assertTrue(validate(bytes, bytes.length), "whole " + hex);
            for (int split = 0; split <= bytes.length; split++) {
                assertTrue(validate(bytes, split), hex + " split at " + split);
            }
            assertTrue(byteByByte(bytes), "byte by byte " + hex);
        }
    }

    @Test
    void invalidSequencesAreRejectedWholeSplitAnywhereAndByteByByte() {
        for (String hex : INVALID) {
            byte[] bytes = HexFormat.of().parseHex(hex);
            assertFalse(validate(bytes, bytes.length), "whole " + hex);
            for (int split = 0; split <= bytes.length; split++) {
                assertFalse(validate(bytes, split), hex + " split at " + split);
            }
            assertFalse(byteByByte(bytes), "byte by byte " + hex);
        }
    }

    @Test
    void agreesWithTheJdkDecoderForAnyFirstTwoBytes() {
        // Any lead byte with any second byte, completed by continuation bytes at and beyond the
        // range bounds: every row of Unicode table 3-7 is crossed, none can be missing from the tables.
        CharsetDecoder jdk = StandardCharsets.UTF_8.newDecoder(); // strict: reports malformed input
        for (int b0 = 0; b0 < 256; b0++) {
            for (int b1 = 0; b1 < 256; b1++) {
                for (int[] rest : new int[][] {{}, {0x7F}, {0x80}, {0xBF}, {0xC0}, {0x80, 0x80}, {0xBF, 0xBF}}) {
                    byte[] bytes = new byte[2 + rest.length];
                    bytes[0] = (byte) b0;
                    bytes[1] = (byte) b1;
                    for (int i = 0; i < rest.length; i++) {
                        bytes[2 + i] = (byte) rest[i];
                    }
                    boolean valid;
                    try {
                        jdk.decode(ByteBuffer.wrap(bytes));
                        valid = true;
                    } catch (CharacterCodingException e) {
                        valid = false;
                    }
                    if (valid != validate(bytes, bytes.length)) {
                        fail(HexFormat.of().formatHex(bytes) + ": the JDK says " + (valid ? "valid" : "invalid"));
                    }
                }
            }
        }
    }

    @Test
    void failsOnTheChunkHoldingTheFirstInvalidByte() {
        Utf8Validator utf8 = new Utf8Validator();
        assertTrue(utf8.accept(Buffer.buffer("κόσμε").getBytes()));
        assertTrue(utf8.accept(hex("f4")), "F4 may start U+100000..U+10FFFF");
        assertFalse(utf8.accept(hex("90")), "F4 90 is beyond U+10FFFF: fails here, not at the end");
        assertFalse(utf8.accept(Buffer.buffer("edited").getBytes()), "stays invalid");
        assertFalse(utf8.complete());
    }

    @Test
    void aCodePointCutOffAtTheEndIsOnlyCaughtByComplete() {
        Utf8Validator utf8 = new Utf8Validator();
        assertTrue(utf8.accept(hex("e282")), "a valid prefix of €");
        assertFalse(utf8.complete());
    }

    @Test
    void completeStartsTheNextMessageAfresh() {
        Utf8Validator utf8 = new Utf8Validator();
        assertTrue(utf8.accept(hex("e282")));
        assertFalse(utf8.complete());
        assertFalse(utf8.accept(hex("ac")), "a lone continuation: the cut-off € is not carried over");
        assertFalse(utf8.complete());
        assertTrue(utf8.accept(hex("e282ac")));
        assertTrue(utf8.complete());
        assertFalse(utf8.accept(hex("c0")));
        assertFalse(utf8.complete());
        assertTrue(utf8.accept(Buffer.buffer("ok").getBytes()), "an invalid message does not taint the next");
        assertTrue(utf8.complete());
    }

    private static boolean validate(byte[] bytes, int split) {
        Utf8Validator utf8 = new Utf8Validator();
        boolean ok = utf8.accept(bytes, 0, split);
        ok = utf8.accept(bytes, split, bytes.length - split) && ok;
        return utf8.complete() && ok;
    }

    private static boolean byteByByte(byte[] bytes) {
        Utf8Validator utf8 = new Utf8Validator();
        boolean ok = true;
        for (byte b : bytes) {
            ok = utf8.accept(new byte[] {b}) && ok;
        }
        return utf8.complete() && ok;
    }

    private static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }
}
