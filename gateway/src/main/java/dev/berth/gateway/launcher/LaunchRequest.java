package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * What to launch: the handler of {@code route} for the session whose public key is
 * {@code sessionKey}, or, when {@code pooled}, a handler for a warm pool that learns its session
 * when it is claimed ({@code sessionKey} is then the pool entry's own name). The key, not the
 * client's secret token, is what backends, labels and logs see. The launch reports its steps to
 * {@code progress}; {@code withdrawn} completes when nobody waits for it any more (its session
 * ended first), so a launch that has not begun never begins. {@code user} is the signed-in user the
 * session serves, or null (always null for a pool entry: its claim tells it).
 */
public record LaunchRequest(
        String sessionKey,
        RouteConfig route,
        boolean pooled,
        LaunchProgress progress,
        Future<Void> withdrawn,
        SessionUser user) {

    private static final SecureRandom RANDOM = new SecureRandom();

    public LaunchRequest(String sessionKey, RouteConfig route) {
        this(sessionKey, route, LaunchProgress.NONE, Promise.<Void>promise().future());
    }

    public LaunchRequest(String sessionKey, RouteConfig route, LaunchProgress progress, Future<Void> withdrawn) {
        this(sessionKey, route, false, progress, withdrawn, null);
    }

    /** The launch of session {@code sessionKey}'s own backend, for {@code user} (or null). */
    public LaunchRequest(
            String sessionKey, RouteConfig route, SessionUser user, LaunchProgress progress, Future<Void> withdrawn) {
        this(sessionKey, route, false, progress, withdrawn, user);
    }

    /** A pool entry of {@code route}, named {@code pool-<random>}. */
    public static LaunchRequest forPool(RouteConfig route) {
        byte[] id = new byte[6];
        RANDOM.nextBytes(id);
        return new LaunchRequest(
                "pool-" + HexFormat.of().formatHex(id),
                route,
                true,
                LaunchProgress.NONE,
                Promise.<Void>promise().future(),
                null);
    }
}
