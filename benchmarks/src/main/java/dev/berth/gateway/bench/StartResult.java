package dev.berth.gateway.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What one scenario of the start benchmark measured, filled in as it runs; read by {@link StartReport}. */
final class StartResult {

    /**
     * One measured session, as its client saw it.
     *
     * @param burst the burst it belonged to (1-based), 0 when sessions came one after another
     * @param idleBefore berth_pool_idle just before the connect; -1 without a pool or when unknown
     * @param upgradeMs connect → 101, by the client
     * @param helloMs connect → the first frame (the handler's hello), by the client
     * @param handlerStartMs the handler's own start from its container log (docker-cold); -1 when not read
     * @param handlerLogMs how long reading that log took (after the hello, outside the measured time); -1 when not read
     */
    record Sample(
            int index,
            int burst,
            String key,
            int idleBefore,
            double upgradeMs,
            double helloMs,
            long handlerStartMs,
            double handlerLogMs) {

        /** A session opened among others (a burst or a wave), as {@code client} saw it: no handler log read. */
        static Sample of(int index, int burst, String key, int idleBefore, BenchClient client) {
            return new Sample(index, burst, key, idleBefore, client.upgradeMillis(), client.helloMillis(), -1, -1);
        }
    }

    final StartScenario scenario;
    String route;
    final Path logFile;
    final String loadAtStart;
    final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    final List<String> notes = new ArrayList<>();
    final List<String> stopNotes = new ArrayList<>();
    /** docker-spaced and docker-arrivals: their waves, and the route's pool as written in its config. */
    final List<StartArrivals.Wave> waves = new ArrayList<>();

    String poolYaml = "";
    /** Sessions run before the measured ones, not counted. */
    int warmups;

    double listeningMs = -1;
    /** Gateway listening → the pool holds its size, the first time. */
    double initialFillMs = -1;
    /** Pool scenarios: connect to connect, ms, and why that value. */
    int pauseMs;

    String pauseSource = "";
    int bursts;
    /** From /metrics at the end: pool refills (count, sum s, max s) and claims (hit, empty). */
    double refillCount = Double.NaN;

    double refillSumS = Double.NaN;
    double refillMaxS = Double.NaN;
    double claimHits = Double.NaN;
    double claimEmpty = Double.NaN;
    /** What the gateway's log says; read once it has stopped. */
    StartLog log = new StartLog();
    /** The machine's CPU time in use during the scenario, all processes, as a fraction of all cores; -1 unknown. */
    double cpuBusy = -1;
    /** How long the scenario took, gateway start to stop, s. */
    double seconds = -1;
    /** "complete", or why not. */
    String outcome = "not run";

    StartResult(StartScenario scenario, String route, Path logFile, String loadAtStart) {
        this.scenario = scenario;
        this.route = route;
        this.logFile = logFile;
        this.loadAtStart = loadAtStart;
    }

    List<Sample> samples() {
        synchronized (samples) {
            return new ArrayList<>(samples);
        }
    }

    /** The gateway's logged phases of {@code sample}, or null when its line is missing. */
    StartLog.Phases phases(Sample sample) {
        return log.phases.get(sample.key());
    }
}
