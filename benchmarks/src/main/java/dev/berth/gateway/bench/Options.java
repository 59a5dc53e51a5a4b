package dev.berth.gateway.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** The benchmark's command line. {@link #parse} fails with the usage text on anything it cannot use. */
record Options(Path root, int sessions, int idle, int concurrency, long pauseMs, Duration timeLimit) {

    private static final int DEFAULT_SESSIONS = 20;
    private static final int DEFAULT_IDLE = 100;
    private static final int DEFAULT_CONCURRENCY = 4;
    private static final int DEFAULT_PAUSE_MS = 500;
    private static final int DEFAULT_TIME_LIMIT_S = 600;

    private static final String USAGE = """
      Usage: scripts/bench-cold-start.sh [--sessions N] [--idle M] [--concurrency C] [--pause-ms P]
                                         [--time-limit-s S] [--root DIR]
        --sessions N      cold starts, one after another (default 20)
        --idle M          idle sessions held for the memory reading, including the N above;
                          0 skips the memory part (default 100; the route allows 100)
        --concurrency C   idle sessions opened at a time (default 4)
        --pause-ms P      pause between two cold starts (default 500)
        --time-limit-s S  the whole run stops after this (default 600)
        --root DIR        repository root (default: the current directory)""";

    static Options parse(String[] args) {
        CommandLine line = CommandLine.parse(
                args, Set.of("--sessions", "--idle", "--concurrency", "--pause-ms", "--time-limit-s"), USAGE);
        int sessions = line.number("--sessions", DEFAULT_SESSIONS, 1, 10_000);
        int idle = line.number("--idle", DEFAULT_IDLE, 0, 10_000);
        if (idle != 0 && idle < sessions) {
            throw new IllegalArgumentException("--idle (" + idle + ") must be 0 or at least --sessions (" + sessions
                    + "): the cold-start sessions stay open and are part of the idle set");
        }
        return new Options(
                line.repositoryRoot(),
                sessions,
                idle,
                line.number("--concurrency", DEFAULT_CONCURRENCY, 1, 100),
                line.number("--pause-ms", DEFAULT_PAUSE_MS, 0, 60_000),
                Duration.ofSeconds(line.number("--time-limit-s", DEFAULT_TIME_LIMIT_S, 10, 86_400)));
    }

    /** The command that repeats this run: sessions and idle always, the other options where not the default. */
    String rerun() {
        StringBuilder cmd = new StringBuilder("scripts/bench-cold-start.sh --sessions " + sessions + " --idle " + idle);
        if (concurrency != DEFAULT_CONCURRENCY) {
            cmd.append(" --concurrency ").append(concurrency);
        }
        if (pauseMs != DEFAULT_PAUSE_MS) {
            cmd.append(" --pause-ms ").append(pauseMs);
        }
        if (timeLimit.toSeconds() != DEFAULT_TIME_LIMIT_S) {
            cmd.append(" --time-limit-s ").append(timeLimit.toSeconds());
        }
        return cmd.toString();
    }
}
