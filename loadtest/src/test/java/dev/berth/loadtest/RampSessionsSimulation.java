package dev.berth.loadtest;

import static dev.berth.loadtest.BerthSession.*;
import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * Ramps to N concurrent container sessions. Users arrive evenly over {@code ramp}; each opens a
 * session (one container), checks its hello, holds it for {@code ramp + plateau} while exchanging
 * a message every {@code exchangeEvery}, checks the session's state, and closes with 1000 (which
 * ends the session and removes its container). So all N sessions are open together for at least
 * {@code plateau}, and the run lasts about {@code 2 * ramp + plateau}.
 */
public class RampSessionsSimulation extends Simulation {

    private final int users = Settings.integer("users", 50);
    private final Duration ramp = Settings.seconds("ramp", 15);
    private final Duration plateau = Settings.seconds("plateau", 30);
    private final Duration exchangeEvery = Settings.seconds("exchangeEvery", 5);
    private final int messageBytes = Settings.integer("messageBytes", 64);
    /** p99 of "connect" (the whole session start, queued launches included), in ms. */
    private final int maxConnectMs = Settings.integer("maxConnectMs", 10_000);

    /** Each user: a session held for {@code hold}, an echo every {@code exchangeEvery}, its state checked, then close 1000. */
    static ScenarioBuilder holdOneSession(String name, Duration hold, Duration exchangeEvery, int messageBytes) {
        return scenario(name)
                .exec(startCounting(), connectAndCheckHello())
                .during(hold)
                .on(pace(exchangeEvery).exec(echo(messageBytes)))
                .exec(checkState("state"), closeAndEnd());
    }

    {
        Settings.describe(
                "RampSessionsSimulation",
                users + " users over " + ramp.toSeconds() + " s, each holding its session "
                        + ramp.plus(plateau).toSeconds() + " s with a message every " + exchangeEvery.toSeconds()
                        + " s");
        setUp(holdOneSession(
                                "ramp to " + users + " concurrent sessions",
                                ramp.plus(plateau),
                                exchangeEvery,
                                messageBytes)
                        .injectOpen(rampUsers(users).during(ramp)))
                .protocols(protocol())
                .maxDuration(ramp.multipliedBy(3)
                        .plus(plateau)
                        .plus(Duration.ofMinutes(1))) // a hung session cannot keep the run going
                .assertions(
                        global().failedRequests().count().is(0L),
                        details("connect").responseTime().percentile(99.0).lt(maxConnectMs),
                        details("echo").responseTime().percentile(99.0).lt(1_000));
    }
}
