package dev.berth.gateway.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The start benchmark's command line. {@link #parse} fails with the usage text on anything it cannot use.
 *
 * @param pauseMs pause between two pool sessions, connect to connect; 0: automatic (see {@link #USAGE})
 * @param maxLoadTenths the 1-minute load average to wait for before the run, in tenths (15: 1.5)
 * @param spaced sessions of docker-spaced, arriving {@code spacedMs} apart
 * @param arrivals sessions of each wave of docker-arrivals, arriving {@code arrivalMs} apart
 */
record StartOptions(
        Path root,
        List<StartScenario> scenarios,
        int sessions,
        int burst,
        int pool,
        int pauseMs,
        int coldPauseMs,
        int warmup,
        int maxLoadTenths,
        int loadWaitS,
        Duration timeLimit,
        int spaced,
        int spacedMs,
        int arrivals,
        int arrivalMs) {

    static final List<StartScenario> ALL = List.of(StartScenario.values());
    private static final int DEFAULT_SESSIONS = 50;
    private static final int DEFAULT_BURST = 10;
    private static final int DEFAULT_POOL = 2;
    private static final int DEFAULT_PAUSE_MS = 2000;
    private static final int DEFAULT_COLD_PAUSE_MS = 200;
    private static final int DEFAULT_WARMUP = 2;
    private static final int DEFAULT_MAX_LOAD_TENTHS = 15;
    private static final int DEFAULT_LOAD_WAIT_S = 300;
    private static final int DEFAULT_TIME_LIMIT_S = 780;
    private static final int DEFAULT_SPACED = 10;
    private static final int DEFAULT_SPACED_MS = 3000;
    private static final int DEFAULT_ARRIVALS = 20;
    private static final int DEFAULT_ARRIVAL_MS = 100;

    static final String USAGE = """
      Usage: scripts/bench-start.sh [--scenarios LIST] [--sessions N] [--burst B] [--pool P] [--pause-ms MS]
                                    [--cold-pause-ms MS] [--warmup W] [--max-load L] [--load-wait-s S]
                                    [--time-limit-s S] [--spaced N] [--spaced-ms MS] [--arrivals N]
                                    [--arrival-ms MS] [--root DIR]
        --scenarios LIST    comma-separated, in this order by default:
                            docker-cold,docker-pool,docker-burst,process-cold,process-pool,
                            swarm-cold,swarm-pool (on a one-node swarm, started and left if none runs),
                            docker-spaced,docker-arrivals (the shipped config's pool, open-loop arrivals)
        --sessions N        measured sessions per scenario (default 50); docker-burst runs
                            ceil(N / B) bursts
        --burst B           sessions opened at once in docker-burst (default 10)
        --pool P            routes[0].pool.size of the pool scenarios (default 2)
        --pause-ms MS       pool scenarios: time from one connect to the next (default 2000); 0 picks
                            it per scenario: 1.5 x the slowest refill seen in the warm-up, at least 500
        --cold-pause-ms MS  cold scenarios: pause after the previous session has ended (default 200)
        --warmup W          sessions per scenario before the measured ones, not counted (default 2)
        --max-load L        before the run, wait until the 1-minute load average is below L (default 1.5)
        --load-wait-s S     ...for at most S seconds, then run anyway and say so (default 300; 0: no wait)
        --time-limit-s S    the run itself (after the load wait) stops after this (default 780)
        --spaced N          docker-spaced: N sessions (default 10)...
        --spaced-ms MS      ...arriving MS apart (default 3000), each kept open until the last had its hello
        --arrivals N        docker-arrivals: two waves of N sessions (default 20)...
        --arrival-ms MS     ...each arriving MS after the one before (default 100), on time whatever the
                            others do; the second wave once the pool has settled after the first
        --root DIR          repository root (default: the current directory)""";

    static StartOptions parse(String[] args) {
        // --scenarios and --max-load are not whole numbers: taken out here, the rest goes to CommandLine
        List<String> rest = new ArrayList<>();
        String scenarioList = null;
        String maxLoad = null;
        for (int i = 0; i < args.length; i++) {
            if ((args[i].equals("--scenarios") || args[i].equals("--max-load")) && i + 1 < args.length) {
                if (args[i].equals("--scenarios")) {
                    scenarioList = args[++i];
                } else {
                    maxLoad = args[++i];
                }
            } else {
                rest.add(args[i]);
            }
        }
        CommandLine line = CommandLine.parse(
                rest.toArray(String[]::new),
                Set.of(
                        "--sessions",
                        "--burst",
                        "--pool",
                        "--pause-ms",
                        "--cold-pause-ms",
                        "--warmup",
                        "--load-wait-s",
                        "--time-limit-s",
                        "--spaced",
                        "--spaced-ms",
                        "--arrivals",
                        "--arrival-ms"),
                USAGE);
        List<StartScenario> scenarios;
        try {
            scenarios = scenarioList == null
                    ? ALL
                    : List.copyOf(Arrays.stream(scenarioList.split(","))
                            .filter(s -> !s.isBlank())
                            .map(StartScenario::of)
                            .collect(Collectors.toCollection(LinkedHashSet::new)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "\n" + USAGE);
        }
        if (scenarios.isEmpty()) {
            throw new IllegalArgumentException("--scenarios names none\n" + USAGE);
        }
        int loadTenths = DEFAULT_MAX_LOAD_TENTHS;
        if (maxLoad != null) {
            try {
                loadTenths = (int) Math.round(Double.parseDouble(maxLoad) * 10);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "--max-load takes a number such as 1.5, not '" + maxLoad + "'\n" + USAGE);
            }
            if (loadTenths < 1 || loadTenths > 10_000) {
                throw new IllegalArgumentException("--max-load takes a number from 0.1 to 1000\n" + USAGE);
            }
        }
        return new StartOptions(
                line.repositoryRoot(),
                scenarios,
                line.number("--sessions", DEFAULT_SESSIONS, 1, 10_000),
                line.number("--burst", DEFAULT_BURST, 1, 100),
                line.number("--pool", DEFAULT_POOL, 1, 50),
                line.number("--pause-ms", DEFAULT_PAUSE_MS, 0, 60_000),
                line.number("--cold-pause-ms", DEFAULT_COLD_PAUSE_MS, 0, 60_000),
                line.number("--warmup", DEFAULT_WARMUP, 0, 100),
                loadTenths,
                line.number("--load-wait-s", DEFAULT_LOAD_WAIT_S, 0, 3600),
                Duration.ofSeconds(line.number("--time-limit-s", DEFAULT_TIME_LIMIT_S, 10, 86_400)),
                line.number("--spaced", DEFAULT_SPACED, 1, 1000),
                line.number("--spaced-ms", DEFAULT_SPACED_MS, 10, 600_000),
                line.number("--arrivals", DEFAULT_ARRIVALS, 1, 1000),
                line.number("--arrival-ms", DEFAULT_ARRIVAL_MS, 1, 600_000));
    }

    double maxLoad() {
        return maxLoadTenths / 10.0;
    }

    /** The command that repeats this run: every measuring option, the waiting ones where not the default. */
    String rerun() {
        StringBuilder cmd = new StringBuilder("scripts/bench-start.sh");
        if (!scenarios.equals(ALL)) {
            cmd.append(" --scenarios ")
                    .append(scenarios.stream().map(StartScenario::flag).collect(Collectors.joining(",")));
        }
        cmd.append(" --sessions ")
                .append(sessions)
                .append(" --burst ")
                .append(burst)
                .append(" --pool ")
                .append(pool)
                .append(" --pause-ms ")
                .append(pauseMs);
        if (scenarios.stream().anyMatch(s -> s.arrivals)) {
            cmd.append(" --spaced ")
                    .append(spaced)
                    .append(" --spaced-ms ")
                    .append(spacedMs)
                    .append(" --arrivals ")
                    .append(arrivals)
                    .append(" --arrival-ms ")
                    .append(arrivalMs);
        }
        if (coldPauseMs != DEFAULT_COLD_PAUSE_MS) {
            cmd.append(" --cold-pause-ms ").append(coldPauseMs);
        }
        if (warmup != DEFAULT_WARMUP) {
            cmd.append(" --warmup ").append(warmup);
        }
        if (maxLoadTenths != DEFAULT_MAX_LOAD_TENTHS) {
            cmd.append(" --max-load ").append(String.format(Locale.ROOT, "%.1f", maxLoad()));
        }
        if (loadWaitS != DEFAULT_LOAD_WAIT_S) {
            cmd.append(" --load-wait-s ").append(loadWaitS);
        }
        if (timeLimit.toSeconds() != DEFAULT_TIME_LIMIT_S) {
            cmd.append(" --time-limit-s ").append(timeLimit.toSeconds());
        }
        return cmd.toString();
    }
}
