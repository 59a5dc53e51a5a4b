package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.launcher.SessionUser;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionTokensTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes();
    private static final Instant NOW = Instant.parse("2026-11-26T08:00:00Z");

    private final SessionTokens tokens = new SessionTokens(SECRET, Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void anIssuedTokenChecksOnItsRouteAndGivesTheSameKey() {
        SessionId issued = tokens.issue("listings", Duration.ofHours(1));
        SessionId checked = tokens.check(issued.token(), "listings").orElseThrow();
        assertEquals(issued, checked);
        assertEquals(SessionId.keyOf(issued.token()), checked.key());
    }

    @Test
    void tokensAreUnique() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            assertTrue(seen.add(tokens.issue("listings", Duration.ofHours(1)).token()));
        }
    }

    @Test
    void everyTamperedByteIsRefused() {
        byte[] token = Base64.getUrlDecoder()
                .decode(tokens.issue("listings", Duration.ofHours(1)).token());
        for (int i = 0; i < token.length; i++) {
            byte[] tampered = token.clone();
            tampered[i] ^= 0x01;
            assertTrue(
                    tokens.check(Base64.getUrlEncoder().withoutPadding().encodeToString(tampered), "listings")
                            .isEmpty(),
                    "byte " + i + " flipped");
        }
    }

    @Test
    void aSignedInUsersTokenProvesItsOwnerAndNamesNoOne() {
        SessionUser alice = new SessionUser("alice", null);
        String token = tokens.issue("listings", Duration.ofHours(1), alice).token();
        assertTrue(tokens.check(token, "listings", alice).orElseThrow().sameUser());
        assertTrue(
                tokens.check(token, "listings", new SessionUser("alice", "other@example.com"))
                        .orElseThrow()
                        .sameUser(),
                "the owner is the user's name");
        assertFalse(tokens.check(token, "listings", new SessionUser("bob", null))
                .orElseThrow()
                .sameUser());
        assertFalse(tokens.check(token, "listings", null).orElseThrow().sameUser(), "nor anyone signed in as no one");
        assertFalse(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.ISO_8859_1).contains("alice"));
        byte[] bytes = Base64.getUrlDecoder().decode(token);
        for (int i = 0; i < bytes.length; i++) {
            byte[] tampered = bytes.clone();
            tampered[i] ^= 0x01;
            assertTrue(
                    tokens.check(Base64.getUrlEncoder().withoutPadding().encodeToString(tampered), "listings", alice)
                            .isEmpty(),
                    "byte " + i + " flipped: its owner cannot be changed either");
        }
    }

    @Test
    void aTokenOfNoOneIsNoSignedInUsers() {
        String token = tokens.issue("listings", Duration.ofHours(1)).token();
        assertTrue(tokens.check(token, "listings", null).orElseThrow().sameUser());
        assertFalse(tokens.check(token, "listings", new SessionUser("alice", null))
                .orElseThrow()
                .sameUser());
    }

    @Test
    void aTokenForOneRouteOpensNothingOnAnother() {
        String token = tokens.issue("listings", Duration.ofHours(1)).token();
        assertTrue(tokens.check(token, "admin").isEmpty());
    }

    @Test
    void anExpiredTokenIsRefused() {
        String token = tokens.issue("listings", Duration.ofMinutes(5)).token();
        SessionTokens later = new SessionTokens(SECRET, Clock.fixed(NOW.plus(Duration.ofMinutes(6)), ZoneOffset.UTC));
        assertTrue(later.check(token, "listings").isEmpty());
    }

    @Test
    void anotherGatewaysSecretMakesTokensItCannotCheck() {
        String token = tokens.issue("listings", Duration.ofHours(1)).token();
        SessionTokens other =
                new SessionTokens("another secret of 32 bytes......".getBytes(), Clock.fixed(NOW, ZoneOffset.UTC));
        assertTrue(other.check(token, "listings").isEmpty());
    }

    @Test
    void malformedTokensAreRefusedWithoutError() {
        for (String junk : new String[] {"", "x", "not-a-token", "A".repeat(56), "%%%%", "A".repeat(10_000), null}) {
            assertTrue(tokens.check(junk, "listings").isEmpty(), String.valueOf(junk));
        }
    }

    @Test
    void theKeyRevealsNothingOfTheToken() {
        SessionId id = tokens.issue("listings", Duration.ofHours(1));
        assertEquals(24, id.key().length());
        assertNotEquals(id.token(), id.key());
        assertTrue(!id.toString().contains(id.token()));
    }
}
