package dev.berth.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

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
    Path root = Path.of("").toAbsolutePath();
    int sessions = DEFAULT_SESSIONS;
    int rounds = DEFAULT_ROUNDS;
    int concurrency = DEFAULT_CONCURRENCY;
    int feed = DEFAULT_FEED;
    long limitSeconds = DEFAULT_TIME_LIMIT_S;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("-h") || flag.equals("--help")) {
        throw new IllegalArgumentException(USAGE);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
      }
      String value = args[++i];
      switch (flag) {
        case "--root" -> root = Path.of(value).toAbsolutePath();
        case "--sessions" -> sessions = number(flag, value, 1, 1000);
        case "--rounds" -> rounds = number(flag, value, 1, 100);
        case "--concurrency" -> concurrency = number(flag, value, 1, 100);
        case "--feed-per-second" -> feed = number(flag, value, 0, 1000);
        case "--time-limit-s" -> limitSeconds = number(flag, value, 10, 86_400);
        default -> throw new IllegalArgumentException("unknown argument '" + flag + "'\n" + USAGE);
      }
    }
    return new RestartOptions(repositoryRoot(root), sessions, rounds, concurrency, feed,
        Duration.ofSeconds(limitSeconds));
  }

  /** {@code dir}, or its parent when the benchmark was started from gateway/; it must hold the gateway module. */
  private static Path repositoryRoot(Path dir) {
    String marker = "gateway/pom.xml";
    if (!Files.isRegularFile(dir.resolve(marker)) && dir.getParent() != null
        && Files.isRegularFile(dir.getParent().resolve(marker))) {
      return dir.getParent();
    }
    if (!Files.isRegularFile(dir.resolve(marker))) {
      throw new IllegalArgumentException(dir + " has no " + marker + ": run from the repository root or pass --root");
    }
    return dir;
  }

  private static int number(String flag, String value, int min, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(flag + " takes a whole number from " + min + " to " + max + ", not '" + value
        + "'");
  }

  /** The command that repeats this run: sessions and rounds always, the other options where not the default. */
  String rerun() {
    StringBuilder cmd = new StringBuilder("scripts/bench-restart.sh --sessions " + sessions + " --rounds " + rounds);
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
