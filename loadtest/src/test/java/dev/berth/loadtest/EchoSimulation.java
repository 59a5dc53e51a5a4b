package dev.berth.loadtest;

import static dev.berth.loadtest.BerthSession.*;
import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * Steady frame exchange through the gateway's data path. Users arrive over {@code ramp}; each
 * opens a session and, for {@code duration}, sends {@code rate} text messages a second of
 * {@code messageBytes} bytes, checking that every echo comes back identical before sending the
 * next. Load: about {@code users * rate} messages a second each way.
 */
public class EchoSimulation extends Simulation {

    private final int users = Settings.integer("users", 20);
    private final Duration ramp = Settings.seconds("ramp", 10);
    private final Duration duration = Settings.seconds("duration", 60);
    private final int rate = Settings.integer("rate", 10);
    private final int messageBytes = Settings.integer("messageBytes", 128);
    /** p99 of "echo" (send to identical echo received), in ms. */
    private final int maxEchoMs = Settings.integer("maxEchoMs", 250);

    /** Each user: a session, {@code rate} echoes a second for {@code duration}, each checked, then close 1000. */
    static ScenarioBuilder echoSteadily(int rate, Duration duration, int messageBytes) {
        return scenario("echo " + rate + "/s per session")
                .exec(startCounting(), connectAndCheckHello())
                .during(duration)
                .on(pacedEcho(rate, messageBytes))
                .exec(closeAndEnd());
    }

    /** The group {@link #echoTimes}' echoes are counted in, apart from other scenarios' "echo" requests. */
    static final String COUNTED_ECHOES = "counted echoes";

    /**
     * Each user: a session, {@code count} echoes at most {@code rate} a second, each checked, then
     * close 1000. The echoes are in the group {@link #COUNTED_ECHOES}, so their number can be held exactly.
     */
    static ScenarioBuilder echoTimes(int rate, int count, int messageBytes) {
        return scenario("echo " + count + " times at " + rate + "/s")
                .exec(startCounting(), connectAndCheckHello())
                .group(COUNTED_ECHOES)
                .on(repeat(count).on(pacedEcho(rate, messageBytes)))
                .exec(closeAndEnd());
    }

    private static ChainBuilder pacedEcho(int rate, int messageBytes) {
        return pace(Duration.ofMillis(1000 / rate)).exec(echo(messageBytes));
    }

    {
        Settings.describe(
                "EchoSimulation",
                users + " sessions over " + ramp.toSeconds() + " s, each sending " + rate + " messages/s of "
                        + messageBytes + " bytes for " + duration.toSeconds() + " s (about " + users * rate
                        + " messages/s)");
        setUp(echoSteadily(rate, duration, messageBytes)
                        .injectOpen(rampUsers(users).during(ramp)))
                .protocols(protocol())
                .maxDuration(ramp.plus(duration).plus(Duration.ofMinutes(1)))
                .assertions(
                        global().failedRequests().count().is(0L),
                        details("echo").responseTime().percentile(99.0).lt(maxEchoMs));
    }
}
