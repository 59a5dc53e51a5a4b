package dev.berth.gateway.session;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import dev.berth.gateway.launcher.SessionUser;
import java.util.HashMap;
import java.util.Map;

/**
 * Sessions per signed-in user ({@code sessions.perUser.maxSessions}), over every route and browser,
 * so one account cannot fill the gateway whatever addresses it comes from. Sessions of no user are
 * not counted here. On the control loop.
 */
final class UserAdmission {

    private final int maxSessions;
    private final Map<String, Integer> sessions = new HashMap<>();

    UserAdmission(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    /** Fails with a 429 failure if {@code user} holds its maximum of sessions. */
    void requireRoom(SessionUser user) {
        if (user != null && sessions.getOrDefault(user.name(), 0) >= maxSessions) {
            throw new FailureException(
                    Failure.USER_SESSION_LIMIT,
                    user + " holds " + maxSessions + " sessions (sessions.perUser.maxSessions)");
        }
    }

    void held(SessionUser user) {
        if (user != null) {
            sessions.merge(user.name(), 1, Integer::sum);
        }
    }

    void released(SessionUser user) {
        if (user != null) {
            sessions.computeIfPresent(user.name(), (name, count) -> count > 1 ? count - 1 : null);
        }
    }
}
