package dev.berth.handler;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** How long ago this process started, for the "listening on ..." line: what a session waits for. */
final class ProcessStart {

    private ProcessStart() {}

    /**
     * ", started in N ms", counted from the process start with /proc's 10 ms clock ticks
     * (ProcessHandle's start instant is only second-accurate), or "" off Linux. Plain streams, no
     * java.nio.file: this runs before the first request and should load little.
     */
    static String sinceProcessStart() {
        try {
            String stat = readSmallFile("/proc/self/stat");
            String afterName = stat.substring(stat.lastIndexOf(')') + 2);
            long startTicks = Long.parseLong(field(afterName, 19)); // field 22 of stat, counted after "pid (comm)"
            long ageMs = millis(field(readSmallFile("/proc/uptime"), 0)) - startTicks * 10;
            return ", started in " + ageMs + " ms";
        } catch (Exception e) {
            return "";
        }
    }

    private static String readSmallFile(String path) throws IOException {
        try (FileInputStream in = new FileInputStream(path)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** "12345.67" seconds as milliseconds (no Double.parseDouble: one thing less to load at start). */
    private static long millis(String seconds) {
        int dot = seconds.indexOf('.');
        long ms = Long.parseLong(dot < 0 ? seconds : seconds.substring(0, dot)) * 1000;
        long scale = 100;
        for (int i = dot + 1; dot >= 0 && i < seconds.length() && scale > 0; i++, scale /= 10) {
            ms += (seconds.charAt(i) - '0') * scale;
        }
        return ms;
    }

    /** The space-separated field {@code index} (from 0) of {@code text}. */
    private static String field(String text, int index) {
        int start = 0;
        for (int i = 0; i < index; i++) {
            start = text.indexOf(' ', start) + 1;
        }
        int end = text.indexOf(' ', start);
        return (end < 0 ? text.substring(start) : text.substring(start, end)).trim();
    }
}
