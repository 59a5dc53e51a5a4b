package dev.berth.handler;

import java.io.PrintStream;

/**
 * One line per event on stdout, prefixed {@code berth-handler[<session>]} so container logs of
 * many sessions stay attributable. Deliberately not used per frame.
 */
public final class HandlerLog {

    private final String prefix;
    private final PrintStream out;

    public HandlerLog(String session) {
        this(session, System.out);
    }

    public HandlerLog(String session, PrintStream out) {
        this.prefix = "berth-handler[" + session + "] ";
        this.out = out;
    }

    public void info(String message) {
        out.println(prefix + message);
    }
}
