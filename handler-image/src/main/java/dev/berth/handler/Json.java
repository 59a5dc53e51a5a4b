package dev.berth.handler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON for the handler, so it needs no JSON library (one less thing to load at start):
 * {@link #parseObject} reads a command, {@link Writer} builds a reply.
 *
 * <p>Values read are String, Integer (an integer that fits), Long (a larger one), Double (a
 * fraction or an exponent, or an integer too large for a long), Boolean, null, and for nested
 * values Map and List; the same types a Jackson-backed JsonObject gives, so the commands' checks
 * ({@code instanceof Integer} for a port) read as before. Duplicate keys: the last one wins.
 */
final class Json {

    /** Nesting allowed in a command; deeper input is refused rather than risking the thread's stack. */
    private static final int MAX_DEPTH = 32;

    /** Input that is not one JSON object. */
    static final class ParseException extends Exception {
        ParseException(String message) {
            super(message);
        }
    }

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parses {@code text} as a single JSON object (whitespace around it allowed, nothing else). */
    static Map<String, Object> parseObject(String text) throws ParseException {
        Json json = new Json(text);
        json.skipWhitespace();
        if (json.peek() != '{') {
            throw json.error("expected '{'");
        }
        Map<String, Object> object = json.object(0);
        json.skipWhitespace();
        if (json.pos < text.length()) {
            throw json.error("unexpected trailing content");
        }
        return object;
    }

    private Map<String, Object> object(int depth) throws ParseException {
        if (depth >= MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH);
        }
        pos++; // '{'
        Map<String, Object> object = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return object;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a field name");
            }
            String key = string();
            skipWhitespace();
            expect(':');
            object.put(key, value(depth));
            skipWhitespace();
            int c = next();
            if (c == '}') {
                return object;
            }
            if (c != ',') {
                throw error(c < 0 ? "unexpected end of input" : "expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) throws ParseException {
        if (depth >= MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH);
        }
        pos++; // '['
        List<Object> array = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return array;
        }
        while (true) {
            array.add(value(depth));
            skipWhitespace();
            int c = next();
            if (c == ']') {
                return array;
            }
            if (c != ',') {
                throw error(c < 0 ? "unexpected end of input" : "expected ',' or ']'");
            }
        }
    }

    private Object value(int depth) throws ParseException {
        skipWhitespace();
        int c = peek();
        switch (c) {
            case '"':
                return string();
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error(c < 0 ? "unexpected end of input" : "unexpected character");
        }
    }

    private String string() throws ParseException {
        pos++; // opening quote
        StringBuilder out = null; // only built when the string has escapes
        int start = pos;
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos);
            if (c == '"') {
                String plain = text.substring(start, pos++);
                return out == null ? plain : out.append(plain).toString();
            }
            if (c < 0x20) {
                throw error("control character in a string");
            }
            if (c != '\\') {
                pos++;
                continue;
            }
            if (out == null) {
                out = new StringBuilder();
            }
            out.append(text, start, pos);
            pos++;
            int escape = next();
            switch (escape) {
                case '"':
                    out.append('"');
                    break;
                case '\\':
                    out.append('\\');
                    break;
                case '/':
                    out.append('/');
                    break;
                case 'b':
                    out.append('\b');
                    break;
                case 'f':
                    out.append('\f');
                    break;
                case 'n':
                    out.append('\n');
                    break;
                case 'r':
                    out.append('\r');
                    break;
                case 't':
                    out.append('\t');
                    break;
                case 'u':
                    if (pos + 4 > text.length()) {
                        throw error("short \\u escape");
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = Character.digit(text.charAt(pos++), 16);
                        if (digit < 0) {
                            throw error("bad \\u escape");
                        }
                        code = code * 16 + digit;
                    }
                    out.append((char) code);
                    break;
                default:
                    throw error("bad escape");
            }
            start = pos;
        }
    }

    private Object number() throws ParseException {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (!digits()) {
            throw error("bad number");
        }
        boolean integer = true;
        if (peek() == '.') {
            pos++;
            integer = false;
            if (!digits()) {
                throw error("bad number");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            integer = false;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!digits()) {
                throw error("bad number");
            }
        }
        String literal = text.substring(start, pos);
        if (integer && pos - start <= 19) {
            try {
                long value = Long.parseLong(literal);
                return value == (int) value ? Integer.valueOf((int) value) : (Object) Long.valueOf(value);
            } catch (NumberFormatException tooLarge) {
                // falls through to a double
            }
        }
        return Double.valueOf(literal);
    }

    private boolean digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos > start;
    }

    private void literal(String word) throws ParseException {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected character");
        }
        pos += word.length();
    }

    private void expect(char c) throws ParseException {
        if (next() != c) {
            throw error("expected '" + c + "'");
        }
    }

    private int peek() {
        return pos < text.length() ? text.charAt(pos) : -1;
    }

    private int next() {
        return pos < text.length() ? text.charAt(pos++) : -1;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private ParseException error(String problem) {
        int at = Math.min(pos, text.length());
        return new ParseException(problem + " at character " + at);
    }

    /**
     * Builds one flat JSON object, fields in the order they are added: {@code new Writer().put("type",
     * "hello").put("connection", 1).toString()}. Strings are escaped as JSON requires (quote,
     * backslash, control characters); everything else goes out as UTF-8 when the frame is encoded.
     */
    static final class Writer {

        private static final char[] HEX = "0123456789abcdef".toCharArray();

        private final StringBuilder out = new StringBuilder(128).append('{');

        Writer put(String key, String value) {
            key(key);
            if (value == null) {
                out.append("null");
            } else {
                quote(value);
            }
            return this;
        }

        Writer put(String key, long value) {
            key(key);
            out.append(value);
            return this;
        }

        Writer put(String key, boolean value) {
            key(key);
            out.append(value);
            return this;
        }

        /** A number, or null. */
        Writer put(String key, Number value) {
            key(key);
            out.append(value == null ? "null" : value.toString());
            return this;
        }

        private void key(String key) {
            if (out.length() > 1) {
                out.append(',');
            }
            quote(key);
            out.append(':');
        }

        private void quote(String value) {
            out.append('"');
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"':
                        out.append("\\\"");
                        break;
                    case '\\':
                        out.append("\\\\");
                        break;
                    case '\n':
                        out.append("\\n");
                        break;
                    case '\r':
                        out.append("\\r");
                        break;
                    case '\t':
                        out.append("\\t");
                        break;
                    case '\b':
                        out.append("\\b");
                        break;
                    case '\f':
                        out.append("\\f");
                        break;
                    default:
                        if (c < 0x20) {
                            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                        } else {
                            out.append(c);
                        }
                }
            }
            out.append('"');
        }

        @Override
        public String toString() {
            return out.toString() + '}';
        }
    }
}
