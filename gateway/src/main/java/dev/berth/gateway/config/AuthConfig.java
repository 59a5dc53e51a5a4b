package dev.berth.gateway.config;

import java.nio.file.Path;

/**
 * Who the user behind a connection is (docs/security.md), or null in {@link BerthConfig} when
 * sessions belong to no one. With it, every websocket upgrade must name a user, or gets 401.
 *
 * @param from where the user comes from
 * @param userHeader {@link From#HEADER}: the header a sign-in proxy sets to the user's name, believed
 *     only from {@code listen.trustedProxies}
 * @param emailHeader {@link From#HEADER}: the header with the user's email, or null
 * @param jwt {@link From#JWT}: how tokens are found and checked, else null
 */
public record AuthConfig(From from, String userHeader, String emailHeader, Jwt jwt) {

    public enum From {
        /** Headers set by a sign-in proxy (oauth2-proxy's X-Forwarded-User and X-Forwarded-Email). */
        HEADER,
        /** A signed JWT, checked here against the keys of a JWKS. */
        JWT
    }

    /**
     * @param header the request header carrying the token ({@code Bearer} is optional), or null
     * @param cookie the cookie carrying the token, or null (one of the two is set)
     * @param jwksFile the JWKS file with the keys tokens must be signed with, or null
     * @param jwksUrl where the JWKS is fetched from (at start, then every {@code jwksRefresh}), or null
     * @param issuer the {@code iss} tokens must have, or null for any
     * @param audience an {@code aud} tokens must have, or null for any
     * @param userClaim the claim naming the user
     * @param emailClaim the claim with the user's email, or null
     */
    public record Jwt(
            String header,
            String cookie,
            Path jwksFile,
            String jwksUrl,
            java.time.Duration jwksRefresh,
            String issuer,
            String audience,
            String userClaim,
            String emailClaim) {}
}
