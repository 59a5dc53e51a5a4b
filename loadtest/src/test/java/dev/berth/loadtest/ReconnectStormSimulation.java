package dev.berth.loadtest;

import static dev.berth.loadtest.BerthSession.*;
import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A reconnect storm: what a gateway restart or a network blip does to every client at once.
 * Users open their sessions over {@code ramp}; at one instant ({@code ramp + settle} after the
 * start) they all drop their connections (close 1001, "going away", which detaches a session
 * instead of ending it) and reconnect straight away. Each reconnect carries the session cookie
 * Gatling kept from the first handshake's Set-Cookie, and must land on its own container: the
 * {@code {"cmd":"state"}} reply names the session key and hostname from the first hello, and
 * {@code connections} is still 1 (the gateway kept its one backend websocket).
 */
public class ReconnectStormSimulation extends Simulation {

    private final int users = Settings.integer("users", 40);
    private final Duration ramp = Settings.seconds("ramp", 20);
    private final Duration settle = Settings.seconds("settle", 5);
    /** p99 of "reconnect" (handshake of a returning client: no launch, just a re-attach), in ms. */
    private final int maxReconnectMs = Settings.integer("maxReconnectMs", 2_000);

    /** When every user drops its connection: set in before(), when the injection starts. */
    private volatile long dropAtMillis;

    /**
     * Each user: a session (hello, state, one echo), a drop (close 1001) at {@code dropAtMillis}
     * (epoch ms, asked when the user gets there), a reconnect with the session cookie that must land
     * on the same container, one echo, close 1000.
     */
    static ScenarioBuilder dropAndReturn(String name, LongSupplier dropAtMillis) {
        return scenario(name)
                .exec(startCounting(), connectAndCheckHello(), checkState("state"))
                .exec(echo(64))
                .pause(session -> Duration.ofMillis(Math.max(0, dropAtMillis.getAsLong() - System.currentTimeMillis())))
                .exec(ws("drop").close(1001, "going away"))
                // The cookie Gatling stored from the first 101 response goes with this handshake. The
                // handler says nothing on a reconnect (its websocket to the gateway never closed), so the
                // state command is what shows where we landed.
                .exec(ws("reconnect").connect(Settings.wsPath()))
                .exec(checkState("state after reconnect"))
                .exec(echo(64))
                .exec(closeAndEnd());
    }

    @Override
    public void before() {
        dropAtMillis = System.currentTimeMillis() + ramp.plus(settle).toMillis();
    }

    {
        Settings.describe(
                "ReconnectStormSimulation",
                users + " sessions over " + ramp.toSeconds() + " s, all dropped at once " + settle.toSeconds()
                        + " s later, then reconnected");
        setUp(dropAndReturn("reconnect storm of " + users + " sessions", () -> dropAtMillis)
                        .injectOpen(rampUsers(users).during(ramp)))
                .protocols(protocol())
                .maxDuration(ramp.plus(settle).plus(Duration.ofMinutes(2)))
                .assertions(
                        global().failedRequests().count().is(0L),
                        details("reconnect").responseTime().percentile(99.0).lt(maxReconnectMs));
    }
}
