package dev.berth.gateway.session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A session's identity in two forms. The {@code token} is the client's secret: 192 random bits from
 * a CSPRNG, sent only in the cookie and the 101 response. The {@code key} is derived from it by
 * SHA-256 and is safe to show: container names and labels, logs, metrics and the handler see the
 * key, so reading them never lets anyone take over a session. A session re-adopted from the engine
 * knows only its key (the token is null): its client brings the token back.
 */
public record SessionId(String token, String key) {

  private static final int TOKEN_BYTES = 24;
  private static final int KEY_HEX_CHARS = 24;
  private static final Pattern TOKEN_FORMAT = Pattern.compile("[A-Za-z0-9_-]{32}");
  private static final SecureRandom RANDOM = new SecureRandom();

  public static SessionId random() {
    byte[] bytes = new byte[TOKEN_BYTES];
    RANDOM.nextBytes(bytes);
    return fromToken(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
  }

  /** The id a client presents, if it is well formed; anything else is treated as no session. */
  public static Optional<SessionId> parse(String token) {
    if (token == null || !TOKEN_FORMAT.matcher(token).matches()) {
      return Optional.empty();
    }
    return Optional.of(fromToken(token));
  }

  /** A session known by its key alone, as found again on the engine. */
  public static SessionId ofKey(String key) {
    return new SessionId(null, key);
  }

  private static SessionId fromToken(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
      return new SessionId(token, HexFormat.of().formatHex(digest).substring(0, KEY_HEX_CHARS));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "session " + key; // never the token: this ends up in logs
  }
}
