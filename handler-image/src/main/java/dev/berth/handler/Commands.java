package dev.berth.handler;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What the commands share, the app's and the test hooks' alike: a command is a single-frame text
 * message starting with {@code {"cmd"}, a bad one is answered with {@code {"type":"error","message":…}}
 * and the connection stays.
 */
final class Commands {

    private static final byte[] PREFIX = "{\"cmd\"".getBytes(StandardCharsets.US_ASCII);

    private Commands() {}

    /** Whether a final text frame's payload is a command (else it is echoed). */
    static boolean isCommand(byte[] payload) {
        if (payload.length < PREFIX.length) {
            return false;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if (payload[i] != PREFIX[i]) {
                return false;
            }
        }
        return true;
    }

    /** The reply to a command that cannot be run. */
    static String error(String message) {
        return new Json.Writer().put("type", "error").put("message", message).toString();
    }

    static Object orDefault(Map<String, Object> command, String key, Object fallback) {
        Object value = command.get(key);
        return value == null ? fallback : value;
    }

    /** 1 to {@code maxLength} ASCII letters, digits or characters of {@code punctuation}, without a regex. */
    static boolean isName(String text, int maxLength, String punctuation) {
        if (text.isEmpty() || text.length() > maxLength) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean letterOrDigit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!(letterOrDigit || punctuation.indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }
}
