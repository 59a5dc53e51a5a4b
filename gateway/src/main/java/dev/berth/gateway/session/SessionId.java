package dev.berth.gateway.session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A session's identity in two forms. The {@code token} is the client's secret, issued and checked
 * by {@link SessionTokens}: sent only in the cookie and the 101 response. The {@code key} is
 * derived from it by SHA-256 and is safe to show: container names and labels, logs, metrics and the
 * handler see the key, so reading them never lets anyone take over a session. A session re-adopted
 * from the engine knows only its key (the token is null): its client brings the token back.
 */
public record SessionId(String token, String key) {

    private static final int KEY_HEX_CHARS = 24;

    /** The identity of a token already checked by {@link SessionTokens}. */
    static SessionId ofToken(String token) {
        return new SessionId(token, keyOf(token));
    }

    /** A session known by its key alone, as found again on the engine. */
    public static SessionId ofKey(String key) {
        return new SessionId(null, key);
    }

    /** The public key of a token: the first 96 bits of its SHA-256, in hex. */
    public static String keyOf(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(digest).substring(0, KEY_HEX_CHARS);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "session " + key; // never the token: this ends up in logs
    }
}
