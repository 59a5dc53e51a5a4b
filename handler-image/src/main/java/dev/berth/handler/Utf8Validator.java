package dev.berth.handler;

/**
 * Checks that a text message is UTF-8 as it arrives, fragment by fragment, so a bad message is
 * failed at the first fragment holding an invalid byte (RFC 6455 section 8.1) rather than after
 * it was echoed.
 *
 * <p>Well-formed sequences are those of Unicode table 3-7: the byte ranges allowed after a lead
 * byte exclude overlong forms (E0 80..9F, F0 80..8F, C0, C1), surrogates (ED A0..BF) and code
 * points above U+10FFFF (F4 90..BF, F5..FF). Once invalid, the validator stays invalid.
 */
final class Utf8Validator {

    private int needed; // continuation bytes still expected for the current code point
    private int lower = 0x80; // range the next continuation byte must fall in
    private int upper = 0xBF;
    private boolean invalid;

    /** Feeds the next bytes of the message; false as soon as an invalid byte was seen. */
    boolean accept(byte[] chunk) {
        return accept(chunk, 0, chunk.length);
    }

    /** Feeds {@code length} bytes of {@code chunk} from {@code offset}; false once an invalid byte was seen. */
    boolean accept(byte[] chunk, int offset, int length) {
        for (int i = offset, end = offset + length; i < end && !invalid; i++) {
            int b = chunk[i];
            if (b >= 0 && needed == 0) {
                continue; // ASCII outside a sequence, by far the most common case
            }
            accept(b & 0xFF);
        }
        return !invalid;
    }

    /**
     * Ends the message: true if everything fed was valid and no code point is cut off at the end.
     * The validator is then ready for the next message.
     */
    boolean complete() {
        boolean valid = !invalid && needed == 0;
        needed = 0;
        lower = 0x80;
        upper = 0xBF;
        invalid = false;
        return valid;
    }

    private void accept(int b) {
        if (needed > 0) {
            if (b < lower || b > upper) {
                invalid = true;
            }
            needed--;
            lower = 0x80;
            upper = 0xBF;
        } else if (b < 0x80) {
            return;
        } else if (b >= 0xC2 && b <= 0xDF) {
            needed = 1;
        } else if (b == 0xE0) {
            start(2, 0xA0, 0xBF); // below A0 would be an overlong 2-byte form
        } else if (b == 0xED) {
            start(2, 0x80, 0x9F); // A0..BF would be a surrogate, U+D800..DFFF
        } else if (b >= 0xE1 && b <= 0xEF) {
            needed = 2;
        } else if (b == 0xF0) {
            start(3, 0x90, 0xBF); // below 90 would be an overlong 3-byte form
        } else if (b >= 0xF1 && b <= 0xF3) {
            needed = 3;
        } else if (b == 0xF4) {
            start(3, 0x80, 0x8F); // 90 and above would be beyond U+10FFFF
        } else {
            invalid = true; // a stray continuation byte, C0/C1 (always overlong) or F5..FF
        }
    }

    private void start(int continuationBytes, int firstLower, int firstUpper) {
        needed = continuationBytes;
        lower = firstLower;
        upper = firstUpper;
    }
}
