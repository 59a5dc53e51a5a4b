package dev.berth.gateway.edge;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;

/**
 * Which browser pages may open websockets here (cross-site websocket hijacking: a page elsewhere
 * would otherwise ride the user's session cookie). A request without an Origin header is not from a
 * browser page and is allowed; a browser's is allowed from the gateway's own origin and from
 * {@code listen.allowedOrigins}, where {@code *} allows any.
 */
final class OriginPolicy {

    private final List<String> allowed;
    private final boolean tls;

    OriginPolicy(List<String> allowed, boolean tls) {
        this.allowed =
                allowed.stream().map(origin -> origin.toLowerCase(Locale.ROOT)).toList();
        this.tls = tls;
    }

    boolean allows(HttpServerRequest request) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin == null || allowed.contains("*")) {
            return true;
        }
        String normalized = origin.toLowerCase(Locale.ROOT);
        String host = request.getHeader(HttpHeaders.HOST);
        boolean sameOrigin =
                host != null && normalized.equals((tls ? "https://" : "http://") + host.toLowerCase(Locale.ROOT));
        return sameOrigin || allowed.contains(normalized);
    }
}
