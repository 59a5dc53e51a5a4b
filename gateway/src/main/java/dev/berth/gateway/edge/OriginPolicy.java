package dev.berth.gateway.edge;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;

/**
 * Which browser pages may open websockets here (cross-site websocket hijacking: a page elsewhere
 * would otherwise ride the user's session cookie). A request without an Origin header is not from a
 * browser page and is allowed; a browser's is allowed from the site's public origin (behind a trusted
 * proxy, the scheme and host it forwards: {@link PublicView#isOrigin}) and from
 * {@code listen.allowedOrigins}, where {@code *} allows any.
 */
final class OriginPolicy {

    private final List<String> allowed;

    OriginPolicy(List<String> allowed) {
        this.allowed =
                allowed.stream().map(origin -> origin.toLowerCase(Locale.ROOT)).toList();
    }

    boolean allows(HttpServerRequest request, PublicView view) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin == null || allowed.contains("*")) {
            return true;
        }
        String normalized = origin.toLowerCase(Locale.ROOT);
        return view.isOrigin(normalized) || allowed.contains(normalized);
    }
}
