package dev.berth.gateway.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time a process and its descendants used (user + system, from /proc), e.g. nginx's master and workers. */
final class ProcessCpu {

    /** Linux's USER_HZ: /proc/PID/stat counts clock ticks of 10 ms. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private ProcessCpu() {}

    static long nanos(ProcessHandle process) {
        long total = ticks(process.pid());
        for (ProcessHandle child : process.descendants().toList()) {
            total += ticks(child.pid());
        }
        return total * NANOS_PER_TICK;
    }

    private static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14 and 15)
        } catch (IOException | RuntimeException gone) {
            return 0;
        }
    }
}
