package dev.berth.gateway.launcher;

/**
 * The signed-in user a session serves (docs/security.md), as the edge learnt it from a trusted
 * sign-in proxy or a verified token. Its handler is told: {@code BERTH_USER} and
 * {@code BERTH_USER_EMAIL} in its environment, or the claim's {@code user} and {@code email} for a
 * pooled one. Never a metric label.
 *
 * @param name the user's name, as the sign-in named them
 * @param email their email, or null
 */
public record SessionUser(String name, String email) {

    /** The longest name or email taken: a header or claim past it is refused, not cut. */
    public static final int MAX_LENGTH = 256;

    public SessionUser {
        if (!acceptable(name) || email != null && !acceptable(email)) {
            throw new IllegalArgumentException(
                    "a user's name and email are 1-" + MAX_LENGTH + " characters with no control character");
        }
    }

    /** Whether {@code value} can name a user: it goes into environments, JSON and logs as it is. */
    public static boolean acceptable(String value) {
        return value != null
                && !value.isEmpty()
                && value.length() <= MAX_LENGTH
                && value.chars().noneMatch(Character::isISOControl);
    }

    @Override
    public String toString() {
        return "user " + name; // the email stays out of logs
    }
}
