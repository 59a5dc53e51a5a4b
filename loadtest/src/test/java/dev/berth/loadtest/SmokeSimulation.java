package dev.berth.loadtest;

import static dev.berth.loadtest.BerthSession.protocol;
import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * The load tests' own test, run by {@code mvn verify} (the loadtest module's integration-test
 * phase) so they cannot rot: a gateway of its own ({@link SmokeGateway}, the built jar on
 * config/loadtest.yaml, real containers) and two users of each load test's scenario at once:
 * {@link RampSessionsSimulation}'s held session, {@link EchoSimulation}'s steady echoes and
 * {@link ReconnectStormSimulation}'s drop and return. Any KO fails the build, and so does a count
 * of sessions, states and echoes short of what the users do, or a container left behind. About
 * 15 s; skip it with {@code -Dberth.smoke.skip=true} (or {@code -DskipTests}).
 */
public class SmokeSimulation extends Simulation {

    private static final int USERS_EACH = 2;
    private static final int ECHO_RATE = 10;
    /** Echoes per echo user: a count, not a duration, so a loaded machine changes the time, not the count. */
    private static final int ECHOES = 30;

    /** Started here, not in before(): the protocol needs its port. */
    private final SmokeGateway gateway = SmokeGateway.start();
    /**
     * When the reconnect users drop: set in before(), about when the pool's sessions have echoed. A
     * user whose session started cold, past the pool, drops as soon as its echo is back (the pause
     * before the drop is never negative), so its reconnect is still checked.
     */
    private volatile long dropAtMillis;

    @Override
    public void before() {
        dropAtMillis = System.currentTimeMillis() + 2_000;
    }

    @Override
    public void after() {
        gateway.stop();
    }

    {
        Settings.describe("SmokeSimulation", USERS_EACH + " users of each of ramp, echo and reconnect, at once");
        setUp(
                        RampSessionsSimulation.holdOneSession(
                                        "smoke: hold a session", Duration.ofSeconds(3), Duration.ofSeconds(1), 64)
                                .injectOpen(atOnceUsers(USERS_EACH)),
                        EchoSimulation.echoTimes(ECHO_RATE, ECHOES, 128).injectOpen(atOnceUsers(USERS_EACH)),
                        ReconnectStormSimulation.dropAndReturn("smoke: drop and return", () -> dropAtMillis)
                                .injectOpen(atOnceUsers(USERS_EACH)))
                .protocols(protocol(gateway.baseUrl()))
                .maxDuration(Duration.ofSeconds(90))
                .assertions(
                        global().failedRequests().count().is(0L),
                        details("connect").successfulRequests().count().is((long) USERS_EACH * 3),
                        details("state").successfulRequests().count().is((long) USERS_EACH * 2),
                        details("state after reconnect")
                                .successfulRequests()
                                .count()
                                .is((long) USERS_EACH),
                        details(EchoSimulation.COUNTED_ECHOES, "echo")
                                .successfulRequests()
                                .count()
                                .is((long) USERS_EACH * ECHOES));
    }
}
