package dev.berth.gateway.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every benchmark here does around its own measurements: run, always clean up (also when
 * the JVM is interrupted), then write the report, which says so when the run failed.
 */
interface Benchmark {

    void run() throws Exception;

    /** Removes every container and process the run made; callable twice, from a shutdown hook too. */
    void cleanup();

    String report(Exception failure);

    /** Runs {@code bench}, writes its report to {@code reportFile} and prints it; rethrows a failure. */
    static void runAndReport(Benchmark bench, Path root, Path reportFile) throws Exception {
        Thread hook = new Thread(bench::cleanup, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        Exception failure = null;
        try {
            bench.run();
        } catch (Exception e) {
            failure = e;
            Progress.print("FAILED: " + e);
        } finally {
            bench.cleanup();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
        String report = bench.report(failure);
        System.out.println(report);
        Files.writeString(reportFile, report);
        Progress.print("report written to " + root.relativize(reportFile));
        if (failure != null) {
            throw failure;
        }
    }
}
