package dev.berth.gateway.session;

import dev.berth.gateway.launcher.SessionUser;

/**
 * Who a connection is from, as the edge made it out: the client's address (forwarded by a trusted
 * proxy, or the TCP peer's own), the proxy it came through, and its signed-in user. The address
 * drives per-client admission; the user, when there is one, owns the sessions it opens.
 *
 * @param address the client's address
 * @param via the trusted proxy it came through, or null when it connected directly
 * @param user the signed-in user, or null without {@code auth}
 */
public record Caller(String address, String via, SessionUser user) {

    /** A client that connected directly, signed in as no one (tests, tools). */
    public static Caller at(String address) {
        return new Caller(address, null, null);
    }

    @Override
    public String toString() {
        return address
                + (via == null ? "" : " (via " + via + ")")
                + (user == null ? "" : " signed in as " + user.name());
    }
}
