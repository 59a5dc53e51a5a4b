package dev.berth.gateway.edge;

import dev.berth.gateway.failure.Failure;
import java.util.function.Supplier;

/** What the edge reports about client connections, for metrics; implemented by the gateway's metrics. */
public interface ConnectionMeter {

    /** Reads the number of open client connections whenever it is scraped. */
    void connectionsOpen(Supplier<Number> open);

    /** A request was refused for a connection limit, before any route saw it. */
    void connectionRefused(Failure reason);
}
