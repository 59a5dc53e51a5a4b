package dev.berth.loadtest;

import java.time.Duration;

/**
 * The knobs of a run, read from system properties ({@code mvn ... -Dusers=80 -Dramp=40}) so the
 * same simulation serves a quick check on a laptop and a heavier run on a bigger machine. Each
 * simulation passes its own defaults, sized for a 2-core machine that also runs the gateway and
 * every session's container.
 */
final class Settings {

    private Settings() {}

    /** The gateway under test; scripts/loadtest.sh passes the port it started it on. */
    static String baseUrl() {
        return System.getProperty("baseUrl", "http://127.0.0.1:8080").replaceAll("/+$", "");
    }

    /** The websocket path of the route under test (config/loadtest.yaml). */
    static String wsPath() {
        return System.getProperty("wsPath", "/ws");
    }

    static int integer(String name, int defaultValue) {
        return Integer.parseInt(
                System.getProperty(name, String.valueOf(defaultValue)).trim());
    }

    /** A duration in whole seconds: {@code -Dduration=120}. */
    static Duration seconds(String name, int defaultSeconds) {
        return Duration.ofSeconds(integer(name, defaultSeconds));
    }

    /** Prints what a run will do, so a report can always be matched with its load. */
    static void describe(String simulation, String load) {
        System.out.println(simulation + " against " + baseUrl() + wsPath() + ": " + load);
    }
}
