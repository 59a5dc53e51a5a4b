package dev.berth.gateway.session;

import dev.berth.gateway.launcher.SessionUser;
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
 *
 * <p>A session of a signed-in user gets a longer token that also carries its owner: 64 bits of a
 * keyed hash of the user's name, under the same tag. So whichever gateway checks it, before or after
 * a restart, knows whether the user presenting it is the one it was issued to, and nothing in it
 * names the user.
 */
public final class SessionTokens {

    private static final int RANDOM_BYTES = 18;
    private static final int EXPIRY_BYTES = Long.BYTES;
    private static final int TAG_BYTES = 16;
    private static final int OWNER_BYTES = 8;
    private static final int TOKEN_BYTES = RANDOM_BYTES + EXPIRY_BYTES + TAG_BYTES;
    private static final int OWNED_TOKEN_BYTES = TOKEN_BYTES + OWNER_BYTES;
    private static final byte[] CONTEXT = "berth-session-v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OWNER_CONTEXT = "berth-owner-v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_OWNER = new byte[OWNER_BYTES];

    /** What a presented token proves: the session, and whether the caller's user is the one it was issued to. */
    record Presented(SessionId id, boolean sameUser) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec secret;
    private final Clock clock;

    public SessionTokens(byte[] secret, Clock clock) {
        this.secret = new SecretKeySpec(secret, "HmacSHA256");
        this.clock = clock;
    }

    /** A new session's identity on {@code route}, its token valid for {@code lifetime}. */
    SessionId issue(String route, Duration lifetime) {
        return issue(route, lifetime, null);
    }

    /** A new session's identity on {@code route} for {@code user} (null: no one), its token valid for {@code lifetime}. */
    SessionId issue(String route, Duration lifetime, SessionUser user) {
        ByteBuffer token = ByteBuffer.allocate(user == null ? TOKEN_BYTES : OWNED_TOKEN_BYTES);
        byte[] random = new byte[RANDOM_BYTES];
        RANDOM.nextBytes(random);
        token.put(random).putLong(clock.instant().plus(lifetime).getEpochSecond());
        if (user != null) {
            token.put(owner(user));
        }
        token.put(tag(route, Arrays.copyOf(token.array(), token.position())));
        return SessionId.ofToken(Base64.getUrlEncoder().withoutPadding().encodeToString(token.array()));
    }

    /** The identity a presented token proves on {@code route}; empty for anything not issued for it, or expired. */
    Optional<SessionId> check(String token, String route) {
        return check(token, route, null).map(Presented::id);
    }

    /**
     * What a token presented by {@code user} (null: no one) proves on {@code route}; empty for
     * anything not issued for it, or expired. A valid token of another user's session is not empty:
     * its {@code sameUser} is false.
     */
    Optional<Presented> check(String token, String route, SessionUser user) {
        byte[] bytes;
        try {
            bytes = token == null || token.length() > 96
                    ? null
                    : Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException notBase64) {
            bytes = null;
        }
        if (bytes == null || bytes.length != TOKEN_BYTES && bytes.length != OWNED_TOKEN_BYTES) {
            return Optional.empty();
        }
        int signedBytes = bytes.length - TAG_BYTES;
        byte[] signed = Arrays.copyOf(bytes, signedBytes);
        byte[] presentedTag = Arrays.copyOfRange(bytes, signedBytes, bytes.length);
        boolean authentic = MessageDigest.isEqual(tag(route, signed), presentedTag); // constant time
        long expiry = ByteBuffer.wrap(bytes, RANDOM_BYTES, EXPIRY_BYTES).getLong();
        if (!authentic || clock.instant().getEpochSecond() > expiry) {
            return Optional.empty();
        }
        byte[] owner = bytes.length == OWNED_TOKEN_BYTES
                ? Arrays.copyOfRange(bytes, RANDOM_BYTES + EXPIRY_BYTES, signedBytes)
                : NO_OWNER;
        byte[] caller = user == null ? NO_OWNER : owner(user);
        return Optional.of(new Presented(SessionId.ofToken(token), MessageDigest.isEqual(owner, caller)));
    }

    /** 64 bits of a keyed hash of the user's name: the same user on any gateway, no name to read. */
    private byte[] owner(SessionUser user) {
        return Arrays.copyOf(mac(OWNER_CONTEXT, user.name().getBytes(StandardCharsets.UTF_8)), OWNER_BYTES);
    }

    private byte[] tag(String route, byte[] signed) {
        byte[] routeBytes = route.getBytes(StandardCharsets.UTF_8);
        byte[] message = ByteBuffer.allocate(routeBytes.length + 1 + signed.length)
                .put(routeBytes)
                .put((byte) 0)
                .put(signed)
                .array();
        return Arrays.copyOf(mac(CONTEXT, message), TAG_BYTES);
    }

    private byte[] mac(byte[] context, byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(secret);
            mac.update(context);
            return mac.doFinal(message);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every JVM has HmacSHA256", e);
        }
    }
}
