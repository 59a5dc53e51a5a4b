package dev.berth.gateway.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** The restart benchmark's command line. {@link #parse} fails with the usage text on anything it cannot use. */
record RestartOptions(Path root, int sessions, int rounds, int concurrency, int feedPerSecond, Duration timeLimit) {

    private static final int DEFAULT_SESSIONS = 20;
    private static final int DEFAULT_ROUNDS = 3;
    private static final int DEFAULT_CONCURRENCY = 4;
    private static final int DEFAULT_FEED = 20;
    private static final int DEFAULT_TIME_LIMIT_S = 600;

    private static final String USAGE = """
      Usage: scripts/bench-restart.sh [--sessions N] [--rounds R] [--concurrency C] [--feed-per-second F]
                                      [--time-limit-s S] [--root DIR]
        --sessions N         sessions held across the restarts (default 20)
        --rounds R           SIGKILL + restart rounds (default 3)
        --concurrency C      new sessions opened at a time at the start (default 4); clients all come
                             back at once after each restart, as browsers would
        --feed-per-second F  listing updates per second each session streams (default 20)
        --time-limit-s S     the whole run stops after this (default 600)
        --root DIR           repository root (default: the current directory)""";

    static RestartOptions parse(String[] args) {
        CommandLine line = CommandLine.parse(
                args, Set.of("--sessions", "--rounds", "--concurrency", "--feed-per-second", "--time-limit-s"), USAGE);
        return new RestartOptions(
                line.repositoryRoot(),
                line.number("--sessions", DEFAULT_SESSIONS, 1, 1000),
                line.number("--rounds", DEFAULT_ROUNDS, 1, 100),
                line.number("--concurrency", DEFAULT_CONCURRENCY, 1, 100),
                line.number("--feed-per-second", DEFAULT_FEED, 0, 1000),
                Duration.ofSeconds(line.number("--time-limit-s", DEFAULT_TIME_LIMIT_S, 10, 86_400)));
    }

    /** The command that repeats this run: sessions and rounds always, the other options where not the default. */
    String rerun() {
        StringBuilder cmd =
                new StringBuilder("scripts/bench-restart.sh --sessions " + sessions + " --rounds " + rounds);
        if (concurrency != DEFAULT_CONCURRENCY) {
            cmd.append(" --concurrency ").append(concurrency);
        }
        if (feedPerSecond != DEFAULT_FEED) {
            cmd.append(" --feed-per-second ").append(feedPerSecond);
        }
        if (timeLimit.toSeconds() != DEFAULT_TIME_LIMIT_S) {
            cmd.append(" --time-limit-s ").append(timeLimit.toSeconds());
        }
        return cmd.toString();
    }
}
