package dev.berth.gateway.edge;

import dev.berth.gateway.config.AuthConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.SessionUser;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.WebClient;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Who the user behind a websocket upgrade is ({@code auth}, docs/security.md): the name a sign-in
 * proxy put in {@code auth.userHeader}, believed only when the request came through a trusted proxy,
 * or the claims of a JWT verified against the keys of a JWKS. Without {@code auth} every request is
 * no one's; with it, one that names no user is refused with {@link Failure#UNAUTHENTICATED}.
 */
final class SignIn {

    private static final Logger LOG = Logger.getLogger(SignIn.class.getName());

    private final Vertx vertx;
    private final AuthConfig auth;
    /** The verifier of the JWKS's current keys ({@code from: jwt}); swapped whole when the keys are fetched again. */
    private volatile JWTAuth tokens;

    private long refresh = -1;

    SignIn(Vertx vertx, AuthConfig auth) {
        this.vertx = vertx;
        this.auth = auth;
    }

    /** Loads the JWKS (and fetches it again every {@code auth.jwt.jwksRefresh} from a URL); nothing to do otherwise. */
    Future<Void> start() {
        if (auth == null || auth.from() != AuthConfig.From.JWT) {
            return Future.succeededFuture();
        }
        AuthConfig.Jwt jwt = auth.jwt();
        if (jwt.jwksFile() != null) {
            return vertx.fileSystem()
                    .readFile(jwt.jwksFile().toString())
                    .map(this::useKeys)
                    .mapEmpty();
        }
        refresh = vertx.setPeriodic(
                jwt.jwksRefresh().toMillis(),
                id -> fetchKeys()
                        .onFailure(error -> LOG.warning("auth.jwt.jwks: fetching " + jwt.jwksUrl()
                                + " failed, the keys fetched before stay in use: " + error.getMessage())));
        return fetchKeys();
    }

    void stop() {
        vertx.cancelTimer(refresh);
    }

    private Future<Void> fetchKeys() {
        WebClient client = WebClient.create(vertx);
        return client.getAbs(auth.jwt().jwksUrl())
                .send()
                .andThen(done -> client.close())
                .compose(response -> response.statusCode() == 200
                        ? Future.succeededFuture(response.body())
                        : Future.failedFuture("the JWKS URL answered " + response.statusCode()))
                .map(this::useKeys)
                .mapEmpty();
    }

    private JWTAuth useKeys(Buffer jwks) {
        JsonArray keys;
        try {
            keys = new JsonObject(jwks).getJsonArray("keys");
        } catch (RuntimeException notJson) {
            throw new IllegalStateException(
                    "auth.jwt.jwks is not a JWKS (a JSON object with a \"keys\" list)", notJson);
        }
        if (keys == null || keys.isEmpty()) {
            throw new IllegalStateException("auth.jwt.jwks holds no keys: tokens could never be verified");
        }
        JWTOptions checks = new JWTOptions();
        if (auth.jwt().issuer() != null) {
            checks.setIssuer(auth.jwt().issuer());
        }
        if (auth.jwt().audience() != null) {
            checks.setAudience(List.of(auth.jwt().audience()));
        }
        JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(checks);
        keys.forEach(key -> options.addJwk((JsonObject) key));
        tokens = JWTAuth.create(vertx, options);
        LOG.info("auth.jwt: " + keys.size() + " key(s) in use");
        return tokens;
    }

    /**
     * The user {@code request} is from, on the request's loop: null without {@code auth}, else a
     * user or a failure with {@link Failure#UNAUTHENTICATED} saying why there is none.
     */
    Future<SessionUser> user(HttpServerRequest request, PublicView view) {
        if (auth == null) {
            return Future.succeededFuture();
        }
        if (auth.from() == AuthConfig.From.HEADER) {
            return fromHeaders(request, view);
        }
        String token = presentedJwt(request);
        if (token == null) {
            return unauthenticated(view + " presented no token (" + where() + ")");
        }
        return tokens.authenticate(new TokenCredentials(token))
                .recover(invalid ->
                        unauthenticated(view + " presented a token that does not verify: " + invalid.getMessage()))
                .compose(verified -> {
                    JsonObject claims = verified.attributes().getJsonObject("accessToken", new JsonObject());
                    return user(
                            claimText(claims, auth.jwt().userClaim()),
                            auth.jwt().emailClaim() == null
                                    ? null
                                    : claimText(claims, auth.jwt().emailClaim()),
                            view,
                            "claim " + auth.jwt().userClaim());
                });
    }

    private Future<SessionUser> fromHeaders(HttpServerRequest request, PublicView view) {
        String name = request.getHeader(auth.userHeader());
        if (view.via() == null) {
            if (name != null) {
                LOG.warning("a websocket upgrade from " + view + " sent " + auth.userHeader()
                        + " without coming through a trusted proxy (listen.trustedProxies): the header is ignored");
            }
            return unauthenticated(view + " did not come through the sign-in proxy");
        }
        String email = auth.emailHeader() == null ? null : request.getHeader(auth.emailHeader());
        return user(name, email, view, auth.userHeader());
    }

    private Future<SessionUser> user(String name, String email, PublicView view, String source) {
        if (name == null) {
            return unauthenticated(view + " is signed in as no one (no " + source + ")");
        }
        if (!SessionUser.acceptable(name) || email != null && !SessionUser.acceptable(email)) {
            return unauthenticated(view + " names a user with control characters or over " + SessionUser.MAX_LENGTH
                    + " characters in " + source);
        }
        return Future.succeededFuture(new SessionUser(name, email));
    }

    private String presentedJwt(HttpServerRequest request) {
        if (auth.jwt().cookie() != null) {
            Cookie cookie = request.getCookie(auth.jwt().cookie());
            return cookie == null ? null : cookie.getValue();
        }
        String value = request.getHeader(auth.jwt().header());
        if (value != null && value.toLowerCase(Locale.ROOT).startsWith("bearer ")) {
            value = value.substring("bearer ".length()).trim();
        }
        return value == null || value.isEmpty() ? null : value;
    }

    private String where() {
        return auth.jwt().cookie() != null
                ? "cookie " + auth.jwt().cookie()
                : "header " + auth.jwt().header();
    }

    private static String claimText(JsonObject claims, String claim) {
        Object value = claims.getValue(claim);
        return value instanceof String || value instanceof Number ? value.toString() : null;
    }

    private static <T> Future<T> unauthenticated(String detail) {
        return Future.failedFuture(new FailureException(Failure.UNAUTHENTICATED, detail));
    }
}
