package dev.berth.gateway.bench;

import dev.berth.gateway.bench.ReturningClients.Comeback;
import java.util.List;

/**
 * One SIGKILL and restart, as measured. Times are milliseconds; -1 where the run did not get that far.
 *
 * @param killExit the killed gateway's exit status (137 for SIGKILL)
 * @param dropProblems clients whose socket did not drop as it should (closed without a close frame: 1006)
 * @param runningAfterKill the route's containers running once the gateway was dead
 * @param startToHealthMs (a) new gateway process started → first /health answer
 * @param healthToRegisteredMs (b) first /health answer → /health counts every session (re-adopted)
 * @param healthToPipedMs (b') first /health answer → every session piped to its container (detached or attached)
 * @param adoptionLogMs the gateway's own "adopted N running session(s) from the engine in Xms", -1 when not logged
 * @param comebacks (c) each client's return, timed from the first /health answer
 */
record RestartRound(
        int number,
        int killExit,
        List<String> dropProblems,
        int runningAfterKill,
        double startToHealthMs,
        double healthToRegisteredMs,
        double healthToPipedMs,
        long adoptionLogMs,
        List<Comeback> comebacks) {

    long failures() {
        return comebacks.stream().filter(c -> !c.ok()).count();
    }

    /** When the last client had its state back: the whole restart as the users saw it. */
    double allBackMs() {
        return comebacks.stream().mapToDouble(Comeback::stateMs).max().orElse(-1);
    }
}
