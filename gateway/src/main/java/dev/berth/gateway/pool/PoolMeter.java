package dev.berth.gateway.pool;

import java.time.Duration;

/** What warm pools report for metrics; implemented by the gateway's metrics. */
public interface PoolMeter {

    /** A claim on {@code route}'s pool: {@code hit} found a ready backend, else it was empty. */
    void claimed(String route, boolean hit);

    /** A pool entry of {@code route} became ready, {@code took} after its launch began. */
    void refilled(String route, Duration took);

    /** Publishes how many entries of {@code route}'s pool are ready. */
    void poolIdle(String route, java.util.function.Supplier<Number> idle);
}
