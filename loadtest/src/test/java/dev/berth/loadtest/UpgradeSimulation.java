package dev.berth.loadtest;

import static dev.berth.loadtest.BerthSession.*;
import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The two upgrades under load, in one run: a new handler version and a new gateway. Driven by
 * {@code scripts/loadtest-upgrade.sh}, which starts a gateway that keeps sessions at shutdown,
 * switches the route from {@code fromVersion} to {@code toVersion} (config file reload) at
 * {@code switchAt}, and restarts the gateway (SIGTERM, drain, a new process on the same port) at
 * {@code restartAt}; both instants are epoch milliseconds passed by the script, so the users and
 * the operator share one clock.
 *
 * <ul>
 *   <li>{@code users} sessions open before the switch, on {@code fromVersion}, and exchange echoes
 *       every {@code exchangeEvery} until a moment before the restart. The version switch must not
 *       disturb them: their hello said {@code fromVersion}, and so does their state afterwards.
 *   <li>{@code lateUsers} sessions open after the switch and must run {@code toVersion}.
 *   <li>Across the restart the first users wait for the new gateway's readiness (polled silently:
 *       a refused probe while no gateway listens is not a failed session), reconnect with the
 *       session cookie on a second websocket, and must land on their own container with its state:
 *       same key, hostname and version, every message they sent counted, and a second gateway
 *       websocket ({@code connections} 2). Then more echoes, and a normal close that ends them.
 * </ul>
 */
public class UpgradeSimulation extends Simulation {

    private static final String AFTER_RESTART = "after-restart";

    private final int users = Settings.integer("users", 100);
    private final Duration ramp = Settings.seconds("ramp", 50);
    private final int lateUsers = Settings.integer("lateUsers", 20);
    private final Duration exchangeEvery = Settings.seconds("exchangeEvery", 2);
    private final String fromVersion = System.getProperty("fromVersion", "0.1.0");
    private final String toVersion = System.getProperty("toVersion", "0.2.0");
    private final long startAt = Long.getLong("startAt", System.currentTimeMillis());
    private final long switchAt = Long.getLong("switchAt", startAt + ramp.toMillis() + 10_000);
    private final long restartAt = Long.getLong("restartAt", switchAt + 30_000);
    /** How long the users wait for a ready gateway after the restart began before they give up. */
    private final Duration readyWithin = Settings.seconds("readyWithin", 60);

    private static Duration until(long epochMillis) {
        return Duration.ofMillis(Math.max(0, epochMillis - System.currentTimeMillis()));
    }

    /** Polls /health/ready until it answers 200; silent, so the probes refused while no gateway listens count for nothing. */
    private ChainBuilder awaitReadyGateway() {
        return exec(session ->
                        session.remove("ready").set("readyGiveUp", System.currentTimeMillis() + readyWithin.toMillis()))
                .asLongAs(session ->
                        !session.contains("ready") && System.currentTimeMillis() < session.getLong("readyGiveUp"))
                .on(exec(http("ready")
                                .get("/health/ready")
                                .silent()
                                .check(status().is(200).saveAs("ready")))
                        .exec(session -> session.markAsSucceeded())
                        .pause(Duration.ofMillis(250)));
    }

    private final ScenarioBuilder throughBothUpgrades = scenario(
                    users + " sessions through a version switch and a gateway restart")
            .exec(startCounting(), connectAndCheckHello("connect", fromVersion), checkState("state"))
            // Echoes until a moment before the restart, so none is in flight when the drain ends.
            .asLongAs(session -> System.currentTimeMillis() < restartAt - 2 * exchangeEvery.toMillis())
            .on(pace(exchangeEvery).exec(echo(64)))
            .exec(checkState("state after the switch"))
            .pause(session -> until(restartAt + 1_000))
            .exec(awaitReadyGateway())
            // Spread the returns over a second, as real clients' backoffs would.
            .pause(session -> Duration.ofMillis(ThreadLocalRandom.current().nextInt(1_000)))
            // The new gateway opened its own websocket to the container, which greets it: the client
            // gets that hello first, naming the same session, container and version, connection 2.
            .exec(ws("reconnect after restart")
                    .wsName(AFTER_RESTART)
                    .connect(Settings.wsPath())
                    .await(HELLO_TIMEOUT)
                    .on(ws.checkTextMessage("hello after restart")
                            .check(
                                    jsonPath("$.type").is("hello"),
                                    jsonPath("$.session").is(session -> session.getString("sessionKey")),
                                    jsonPath("$.hostname").is(session -> session.getString("hostname")),
                                    jsonPath("$.version").is(fromVersion),
                                    jsonPath("$.connection").ofInt().is(2))))
            .exec(checkState("state after restart", AFTER_RESTART, 2))
            .repeat(3)
            .on(echo(64, AFTER_RESTART))
            .exec(closeAndEnd(AFTER_RESTART));

    private final ScenarioBuilder startedAfterTheSwitch = scenario(lateUsers + " sessions started after the switch")
            .exec(startCounting(), connectAndCheckHello("connect after the switch", toVersion), checkState("state"))
            .repeat(5)
            .on(pace(exchangeEvery).exec(echo(64)))
            .exec(closeAndEnd());

    @Override
    public void before() {
        System.out.printf(
                "UpgradeSimulation: start in %d ms, switch %s -> %s %d ms later, restart %d ms after that%n",
                startAt - System.currentTimeMillis(), fromVersion, toVersion, switchAt - startAt, restartAt - switchAt);
    }

    {
        Settings.describe(
                "UpgradeSimulation",
                users + " sessions over " + ramp.toSeconds() + " s on " + fromVersion + ", switched to " + toVersion
                        + " (then " + lateUsers + " new sessions), then a gateway restart");
        long lateStart = switchAt + 3_000;
        long lateSpread = Math.max(1_000, restartAt - lateStart - 6 * exchangeEvery.toMillis() - 5_000);
        setUp(
                        throughBothUpgrades.injectOpen(
                                nothingFor(until(startAt)), rampUsers(users).during(ramp)),
                        startedAfterTheSwitch.injectOpen(
                                nothingFor(until(lateStart)),
                                rampUsers(lateUsers).during(Duration.ofMillis(lateSpread))))
                .protocols(protocol())
                .maxDuration(until(restartAt).plus(readyWithin).plus(Duration.ofMinutes(2)))
                .assertions(
                        global().failedRequests().count().is(0L),
                        details("echo").responseTime().percentile(99.0).lt(1_000));
    }
}
