package dev.berth.handler;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The warm pool's side of the gateway contract: a pooled handler (BERTH_POOL=1) starts before its
 * session exists and learns it from the gateway's first message, {@code {"cmd":"claim","session":KEY}},
 * with the signed-in user it serves ({@code "user"}, {@code "email"}) when the gateway signs users in.
 * It serves the first session it is claimed for and refuses any other with 1008, so gateways
 * sharing an engine never share a backend.
 */
final class PoolClaim {

    private static final int MAX_SESSION_KEY = 64;

    private PoolClaim() {}

    /** The first frame a pooled handler gets names its session; anything else is refused (1008). */
    static void first(WebSocketConnection connection, SessionState state, int opcode, boolean fin, byte[] payload)
            throws InterruptedException {
        Map<String, Object> claim = null;
        if (opcode == FrameReader.TEXT && fin) {
            try {
                claim = Json.parseObject(new String(payload, StandardCharsets.UTF_8));
            } catch (Json.ParseException notJson) {
                // refused below
            }
        }
        Object key = claim == null || !"claim".equals(claim.get("cmd")) ? null : claim.get("session");
        if (!(key instanceof String text) || !isSessionKey(text) || !state.claim(text)) {
            connection.fail(1008, "a pooled handler must be claimed first");
            return;
        }
        if (claim.get("user") instanceof String user) {
            state.serves(user);
        }
        connection.greet();
    }

    /**
     * A claim on a handler that has its session: another connection claimed it first (a gateway
     * racing for a pool entry). The same session is greeted again, any other refused.
     */
    static void again(WebSocketConnection connection, SessionState state, Object key) throws InterruptedException {
        if (state.sessionKey().equals(key)) {
            connection.greet();
        } else {
            connection.fail(1008, "already claimed for another session");
        }
    }

    /** [A-Za-z0-9_-]{1,64}, without a regex. */
    private static boolean isSessionKey(String key) {
        return Commands.isName(key, MAX_SESSION_KEY, "_-");
    }
}
