package dev.berth.gateway.launcher;

/** What a launcher reports about its engine connection, for metrics. */
public interface EngineWatch {

    /** The engine's event stream broke and is being opened again. */
    void eventStreamReconnecting();

    EngineWatch NONE = () -> {};
}
