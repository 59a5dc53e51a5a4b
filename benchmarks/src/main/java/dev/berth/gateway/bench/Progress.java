package dev.berth.gateway.bench;

/** Progress lines go to stderr so that stdout carries only the report. */
final class Progress {

    private Progress() {}

    static void print(String message) {
        System.err.println("bench: " + message);
    }
}
