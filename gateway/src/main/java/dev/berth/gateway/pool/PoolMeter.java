package dev.berth.gateway.pool;

import java.time.Duration;
import java.util.function.Supplier;

/** What warm pools report for metrics; implemented by the gateway's metrics. */
public interface PoolMeter {

    /** A claim on {@code route}'s pool: {@code hit} found a ready backend, else it was empty. */
    void claimed(String route, boolean hit);

    /** A pool entry of {@code route} became ready, {@code took} after its launch began. */
    void refilled(String route, Duration took);

    /**
     * Publishes, for {@code route}'s pool, how many entries are ready ({@code idle}), how many it
     * aims to hold now ({@code target}, between its floor and ceiling, following arrivals) and how
     * many are being started ({@code starting}).
     */
    void poolGauges(String route, Supplier<Number> idle, Supplier<Number> target, Supplier<Number> starting);
}
