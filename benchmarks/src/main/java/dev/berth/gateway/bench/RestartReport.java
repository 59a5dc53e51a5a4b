package dev.berth.gateway.bench;

import dev.berth.gateway.bench.ReturningClients.Comeback;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The restart benchmark's Markdown report, written section by section in the order it is read. */
final class RestartReport {

    private final RestartOptions options;
    private final StringBuilder text = new StringBuilder();

    RestartReport(RestartOptions options) {
        this.options = options;
    }

    String text() {
        return text.toString();
    }

    /** Title and the run's circumstances: when, where, which engine and gateway, how to repeat it. */
    void header(
            ZonedDateTime startedAt,
            String loadBefore,
            String loadAfter,
            String engineVersion,
            String route,
            List<Path> logFiles) {
        text.append("# Berth restart benchmark\n\n");
        text.append("- Date: ")
                .append(startedAt.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z")))
                .append('\n');
        text.append("- Machine: ").append(Host.describe()).append('\n');
        text.append("- Load average (1/5/15 min): ")
                .append(loadBefore)
                .append(" before, ")
                .append(loadAfter)
                .append(" after\n");
        text.append("- Java: ")
                .append(System.getProperty("java.vm.name"))
                .append(' ')
                .append(System.getProperty("java.runtime.version"))
                .append(" (gateway and benchmark)\n");
        text.append("- Docker engine: ").append(engineVersion).append('\n');
        text.append("- Gateway: `java -Xmx512m -jar gateway/target/berth-gateway.jar --config <temp file> --port P`,")
                .append(" the same P after every restart; route `")
                .append(route)
                .append(
                        "` of its own (docker launcher, `sessions.onShutdown: keep`, grace 120s, other keys as config/berth.yaml)\n");
        if (!logFiles.isEmpty()) {
            text.append("- Gateway logs: `")
                    .append(options.root().relativize(logFiles.get(0)))
                    .append('`');
            if (logFiles.size() > 1) {
                text.append(" … `")
                        .append(logFiles.get(logFiles.size() - 1).getFileName())
                        .append('`');
            }
            text.append(" (one per gateway process)\n");
        }
        text.append("- Rerun: `").append(options.rerun()).append("`\n");
    }

    void failure(Exception failure) {
        text.append("\n**The run FAILED: ").append(failure).append("** (numbers below are what was measured before)\n");
    }

    /** The setup, one row per round, then every client's return over all rounds. */
    void rounds(List<RestartRound> rounds, int opened, double openSeconds) {
        text.append("\n## Setup\n\n");
        text.append(String.format(
                Locale.ROOT,
                "%d of %d sessions opened%s, %d at a time (each launched a container);"
                        + " client i sent i+1 frames and read each echo, then streamed its listing feed at %d/s.%n",
                opened,
                options.sessions(),
                openSeconds < 0 ? "" : String.format(Locale.ROOT, " in %.1f s", openSeconds),
                options.concurrency(),
                options.feedPerSecond()));

        text.append("\n## Rounds: SIGKILL, then the same jar again on the same port\n\n");
        text.append("(a) new process start → first `/health` answer; (b) → `/health` counts all sessions (re-adopted);")
                .append(
                        " (b') → all piped to their containers (detached or attached, none connecting); (c) → a client,")
                .append(
                        " reconnecting with its cookie the moment `/health` answered (all at once), has its hello and its")
                .append(" `state` back. (b), (b') and (c) are from the first `/health` answer, ms.\n\n");
        text.append("| round | exit | clients dropped (1006) | containers running after kill | (a) start → /health")
                .append(
                        " | (b) registered | (b') piped | gateway log: adoption | (c) p50 | (c) p95 | (c) max: all back")
                .append(" | clients back & checked |\n");
        text.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (RestartRound r : rounds) {
            List<Comeback> ok = r.comebacks().stream().filter(Comeback::ok).toList();
            text.append(String.format(
                    Locale.ROOT,
                    "| %d | %d | %d/%d | %d | %s | %s | %s | %s | %s | %s | %s | %d/%d |%n",
                    r.number(),
                    r.killExit(),
                    r.comebacks().size() - r.dropProblems().size(),
                    r.comebacks().size(),
                    r.runningAfterKill(),
                    ms(r.startToHealthMs()),
                    ms(r.healthToRegisteredMs()),
                    ms(r.healthToPipedMs()),
                    r.adoptionLogMs() < 0 ? "–" : Long.toString(r.adoptionLogMs()),
                    percentile(ok, Comeback::stateMs, 50),
                    percentile(ok, Comeback::stateMs, 95),
                    ms(r.allBackMs()),
                    ok.size(),
                    r.comebacks().size()));
        }

        List<Comeback> all = new ArrayList<>();
        rounds.forEach(r -> r.comebacks().stream().filter(Comeback::ok).forEach(all::add));
        text.append("\n## Each client's return, all rounds (")
                .append(all.size())
                .append(" returns), ms from the first /health answer\n\n");
        text.append("| ms | p50 | p95 | min | max |\n|---|---:|---:|---:|---:|\n");
        row("→ 101 (reconnected)", all, Comeback::upgradeMs);
        row("→ hello (own session key, connection = round + 1)", all, Comeback::helloMs);
        row("→ state (own framesReceived)", all, Comeback::stateMs);

        text.append("\nChecks per return: the hello names the client's own session, says connection = round + 1 (the")
                .append(
                        " new gateway's connection to the same container), `state.framesReceived` is what the client sent")
                .append(" before the first kill, and the next listing seq follows the last one it saw.\n");
        List<String> problems = new ArrayList<>();
        rounds.forEach(r -> {
            r.dropProblems().forEach(p -> problems.add("round " + r.number() + ", drop: " + p));
            r.comebacks().stream()
                    .filter(c -> !c.ok())
                    .forEach(c -> problems.add("round " + r.number() + ": " + c.problem()));
        });
        text.append(problems.isEmpty() ? "All held.\n" : "\n**" + problems.size() + " problem(s):**\n\n");
        problems.forEach(p -> text.append("- ").append(p).append('\n'));
    }

    /** How the run ended: clients, gateway, containers. */
    void stop(List<String> stopNotes) {
        text.append("\n## Stop\n\n");
        stopNotes.forEach(n -> text.append("- ").append(n).append('\n'));
    }

    private <T> void row(String label, List<T> items, ToDoubleFunction<T> value) {
        text.append("| ")
                .append(label)
                .append(" | ")
                .append(percentile(items, value, 50))
                .append(" | ")
                .append(percentile(items, value, 95))
                .append(" | ")
                .append(percentile(items, value, 0))
                .append(" | ")
                .append(percentile(items, value, 100))
                .append(" |\n");
    }

    private static String ms(double value) {
        return value < 0 ? "–" : Long.toString(Math.round(value));
    }

    /** Nearest-rank percentile in whole milliseconds; p=0 is the minimum, "–" for no values. */
    private static <T> String percentile(List<T> items, ToDoubleFunction<T> value, int p) {
        if (items.isEmpty()) {
            return "–";
        }
        double[] sorted = items.stream().mapToDouble(value).sorted().toArray();
        int rank = Math.max(1, (int) Math.ceil(p / 100.0 * sorted.length));
        return Long.toString(Math.round(sorted[rank - 1]));
    }
}
