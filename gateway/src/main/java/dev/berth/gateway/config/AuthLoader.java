package dev.berth.gateway.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the {@code auth} section (docs/security.md): absent means sessions belong to no one. */
final class AuthLoader {

    /** An HTTP header name (RFC 9110 token). */
    private static final Pattern HEADER = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private AuthLoader() {}

    static AuthConfig auth(ConfigNode node, Path folder) {
        if (!node.present()) {
            return null;
        }
        node.onlyKeys(Set.of("from", "userHeader", "emailHeader", "jwt"));
        AuthConfig.From from = node.child("from").choice(AuthConfig.From.class, AuthConfig.From.HEADER);
        if (from == AuthConfig.From.HEADER) {
            if (node.child("jwt").present()) {
                throw node.child("jwt")
                        .error("is set while auth.from is header", "set auth.from: jwt, or remove auth.jwt");
            }
            return new AuthConfig(
                    from,
                    header(node.child("userHeader"), "X-Forwarded-User"),
                    node.child("emailHeader").present() ? header(node.child("emailHeader"), null) : null,
                    null);
        }
        for (String key : new String[] {"userHeader", "emailHeader"}) {
            if (node.child(key).present()) {
                throw node.child(key)
                        .error("is set while auth.from is jwt", "remove it: the user comes from auth.jwt.userClaim");
            }
        }
        return new AuthConfig(from, null, null, jwt(node.child("jwt"), folder));
    }

    private static AuthConfig.Jwt jwt(ConfigNode node, Path folder) {
        if (!node.present()) {
            throw node.error("is missing while auth.from is jwt", "add auth.jwt: {jwks: jwks.json}, at least");
        }
        node.onlyKeys(
                Set.of("header", "cookie", "jwks", "jwksRefresh", "issuer", "audience", "userClaim", "emailClaim"));
        String cookie = node.child("cookie").string(null);
        String header =
                node.child("header").present() || cookie == null ? header(node.child("header"), "Authorization") : null;
        String jwks =
                node.child("jwks").requiredString(node.path() + ".jwks: jwks.json, or https://sso.example.com/jwks");
        boolean url = jwks.startsWith("https://") || jwks.startsWith("http://");
        Path file = url ? null : folder.resolve(jwks).normalize();
        if (file != null && !Files.isReadable(file)) {
            throw node.child("jwks")
                    .error(
                            "'" + file + "' cannot be read",
                            "point it at the JWKS file of the keys tokens are signed with, or at its https:// URL");
        }
        return new AuthConfig.Jwt(
                header,
                cookie,
                file,
                url ? jwks : null,
                node.child("jwksRefresh").duration(Duration.ofMinutes(10), Duration.ofSeconds(10), Duration.ofDays(1)),
                node.child("issuer").string(null),
                node.child("audience").string(null),
                node.child("userClaim").string("sub"),
                node.child("emailClaim").string(null));
    }

    private static String header(ConfigNode node, String fallback) {
        String name = node.string(fallback);
        if (!HEADER.matcher(name).matches()) {
            throw node.error("'" + name + "' is not a header name", "write a header name such as X-Forwarded-User");
        }
        return name;
    }
}
