package dev.berth.gateway.pipe;

import java.util.Locale;

/** Which way a frame travels through the gateway. */
public enum Direction {
    CLIENT_TO_BACKEND,
    BACKEND_TO_CLIENT;

    /** The metric tag value, e.g. "client_to_backend". */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
