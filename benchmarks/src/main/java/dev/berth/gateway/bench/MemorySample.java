package dev.berth.gateway.bench;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One reading of the gateway's memory after a full GC: heap used and committed (KiB), live object bytes,
 * RSS (KiB), and the live instances and bytes per class ({@code histogram}: class name to {count, bytes}).
 */
record MemorySample(
        String label,
        int sessions,
        long heapUsedK,
        long heapTotalK,
        long liveBytes,
        long rssK,
        Map<String, long[]> histogram) {

    /** The first reading, before any client connected. */
    static final String FRESH = "fresh gateway, no session yet";
    /** The baseline: after the warm-up sessions have come and gone. */
    static final String WARMED_UP = "warmed up, 0 sessions";

    private static final Pattern HEAP_LINE = Pattern.compile("total (\\d+)K, used (\\d+)K");
    private static final Pattern HISTO_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
    private static final Pattern HISTO_TOTAL = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)");

    /** Runs two full GCs in the gateway, then reads its heap, RSS and class histogram through jcmd and /proc. */
    static MemorySample take(GatewayProcess gateway, String label) throws Exception {
        gateway.jcmd("GC.run");
        Thread.sleep(1000);
        gateway.jcmd("GC.run");
        String info = gateway.jcmd("GC.heap_info");
        long used = 0;
        long total = 0;
        for (String line : info.split("\n")) {
            Matcher m = HEAP_LINE.matcher(line);
            if (m.find()) {
                total += Long.parseLong(m.group(1));
                used += Long.parseLong(m.group(2));
            }
        }
        if (total == 0) {
            throw new IllegalStateException("cannot read the heap from jcmd GC.heap_info:\n" + info);
        }
        long rss = gateway.rssKilobytes();
        Map<String, long[]> histogram = new HashMap<>();
        long live = -1;
        for (String line : gateway.jcmd("GC.class_histogram").split("\n")) { // another full GC: live objects only
            Matcher m = HISTO_LINE.matcher(line);
            if (m.find()) {
                histogram.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
            } else if ((m = HISTO_TOTAL.matcher(line)).find()) {
                live = Long.parseLong(m.group(2));
            }
        }
        MemorySample sample = new MemorySample(label, gateway.sessions(), used, total, live, rss, histogram);
        Progress.print(String.format(
                Locale.ROOT,
                "memory, %s: heap used %.1f MiB (live %.1f MiB), RSS %.1f MiB, %d sessions",
                label,
                used / 1024.0,
                live / 1048576.0,
                rss / 1024.0,
                sample.sessions()));
        return sample;
    }
}
