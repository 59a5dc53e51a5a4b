package dev.berth.gateway.launcher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The environment a session handler starts with (the handler's side of the contract is in
 * handler-image/README.md).
 */
record HandlerEnvironment(Map<String, String> variables) {

    /**
     * The gateway is the one that ends idle sessions; the handler's own idle timer is a backstop for
     * sessions whose gateway is gone, so it is set a little longer than the route's grace.
     */
    private static final Duration BACKSTOP_MARGIN = Duration.ofSeconds(30);

    static HandlerEnvironment of(LaunchRequest request, int port) {
        Map<String, String> env = new LinkedHashMap<>(request.route().env()); // the config refuses the names set below
        if (request.pooled()) {
            env.put("BERTH_POOL", "1"); // it learns its session from the gateway's claim
        } else {
            env.put("BERTH_SESSION", request.sessionKey());
        }
        if (request.user() != null) {
            env.put("BERTH_USER", request.user().name());
            if (request.user().email() != null) {
                env.put("BERTH_USER_EMAIL", request.user().email());
            }
        }
        env.put("BERTH_VERSION", request.route().version());
        env.put("BERTH_PORT", Integer.toString(port));
        env.put(
                "BERTH_IDLE_GRACE_MS",
                Long.toString(
                        request.route().timeouts().grace().plus(BACKSTOP_MARGIN).toMillis()));
        return new HandlerEnvironment(Map.copyOf(env));
    }

    HandlerEnvironment with(String name, String value) {
        Map<String, String> env = new LinkedHashMap<>(variables);
        env.put(name, value);
        return new HandlerEnvironment(Map.copyOf(env));
    }

    /** As docker's {@code NAME=value} list. */
    List<String> asList() {
        List<String> list = new ArrayList<>();
        variables.forEach((name, value) -> list.add(name + "=" + value));
        return list;
    }
}
