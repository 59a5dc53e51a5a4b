package dev.berth.gateway.session;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Issues and checks session tokens. A token is 144 random bits, its expiry, and an HMAC-SHA256
 * tag over both and the route, keyed with the gateway's secret: a forged, tampered, expired or
 * guessed token, or one for another route, fails {@link #check} without any lookup, so refusing it
 * reveals nothing about which sessions exist. Any gateway with the same secret checks the same
 * tokens, and they stay valid across restarts; the secret never leaves the gateway.
 */
public final class SessionTokens {

    private static final int RANDOM_BYTES = 18;
    private static final int EXPIRY_BYTES = Long.BYTES;
    private static final int TAG_BYTES = 16;
    private static final int TOKEN_BYTES = RANDOM_BYTES + EXPIRY_BYTES + TAG_BYTES;
    private static final byte[] CONTEXT = "berth-session-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec secret;
    private final Clock clock;

    public SessionTokens(byte[] secret, Clock clock) {
        this.secret = new SecretKeySpec(secret, "HmacSHA256");
        this.clock = clock;
    }

    /** A new session's identity on {@code route}, its token valid for {@code lifetime}. */
    SessionId issue(String route, Duration lifetime) {
        ByteBuffer token = ByteBuffer.allocate(TOKEN_BYTES);
        byte[] random = new byte[RANDOM_BYTES];
        RANDOM.nextBytes(random);
        token.put(random).putLong(clock.instant().plus(lifetime).getEpochSecond());
        token.put(tag(route, Arrays.copyOf(token.array(), RANDOM_BYTES + EXPIRY_BYTES)));
        return SessionId.ofToken(Base64.getUrlEncoder().withoutPadding().encodeToString(token.array()));
    }

    /** The identity a presented token proves on {@code route}; empty for anything not issued for it, or expired. */
    Optional<SessionId> check(String token, String route) {
        byte[] bytes;
        try {
            bytes = token == null || token.length() > 64
                    ? null
                    : Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException notBase64) {
            bytes = null;
        }
        if (bytes == null || bytes.length != TOKEN_BYTES) {
            return Optional.empty();
        }
        byte[] signed = Arrays.copyOf(bytes, RANDOM_BYTES + EXPIRY_BYTES);
        byte[] presentedTag = Arrays.copyOfRange(bytes, RANDOM_BYTES + EXPIRY_BYTES, TOKEN_BYTES);
        boolean authentic = MessageDigest.isEqual(tag(route, signed), presentedTag); // constant time
        long expiry = ByteBuffer.wrap(bytes, RANDOM_BYTES, EXPIRY_BYTES).getLong();
        if (!authentic || clock.instant().getEpochSecond() > expiry) {
            return Optional.empty();
        }
        return Optional.of(SessionId.ofToken(token));
    }

    private byte[] tag(String route, byte[] signed) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(secret);
            mac.update(CONTEXT);
            mac.update(route.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return Arrays.copyOf(mac.doFinal(signed), TAG_BYTES);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every JVM has HmacSHA256", e);
        }
    }
}
