package dev.berth.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

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
    Path root = Path.of("").toAbsolutePath();
    int sessions = DEFAULT_SESSIONS;
    int idle = DEFAULT_IDLE;
    int concurrency = DEFAULT_CONCURRENCY;
    long pauseMs = DEFAULT_PAUSE_MS;
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
        case "--sessions" -> sessions = number(flag, value, 1);
        case "--idle" -> idle = number(flag, value, 0);
        case "--concurrency" -> concurrency = number(flag, value, 1);
        case "--pause-ms" -> pauseMs = number(flag, value, 0);
        case "--time-limit-s" -> limitSeconds = number(flag, value, 10);
        default -> throw new IllegalArgumentException("unknown argument '" + flag + "'\n" + USAGE);
      }
    }
    if (idle != 0 && idle < sessions) {
      throw new IllegalArgumentException("--idle (" + idle + ") must be 0 or at least --sessions (" + sessions
          + "): the cold-start sessions stay open and are part of the idle set");
    }
    return new Options(repositoryRoot(root), sessions, idle, concurrency, pauseMs, Duration.ofSeconds(limitSeconds));
  }

  /** {@code dir}, or its parent when the benchmark was started from gateway/; it must hold the gateway config. */
  private static Path repositoryRoot(Path dir) {
    String config = GatewayProcess.CONFIG;
    if (!Files.isRegularFile(dir.resolve(config)) && Files.isRegularFile(dir.getParent().resolve(config))) {
      return dir.getParent();
    }
    if (!Files.isRegularFile(dir.resolve(config))) {
      throw new IllegalArgumentException(dir + " has no " + config + ": run from the repository root or pass --root");
    }
    return dir;
  }

  private static int number(String flag, String value, int min) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(flag + " takes a whole number >= " + min + ", not '" + value + "'");
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
