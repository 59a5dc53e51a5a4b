package dev.berth.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.http.action.ws.WsInboundMessage;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * A soak: container sessions arriving and departing for {@code minutes} while scripts/soak.sh
 * injects faults (containers killed, the engine's socket cut, the gateway SIGKILLed and started
 * again). Every virtual user is a resume client ({@link ResumeClient}, berth.resume.v1 from
 * docs/sessions.md) that counts every sequence number it gets; the counts go to a CSV every
 * {@code statsEvery} seconds ({@link SoakStats}), which the script plots.
 *
 * <p>Each user arrives (open model, {@code arrivalsPerSec}), connects with the subprotocol and
 * resumes, then sends numbered messages closed-loop, one every {@code exchangeEvery} ms, each
 * waiting for its echo; now and then it leaves with close 1001 and comes back with its cookie
 * ({@code reconnectChance} per exchange), or hands its session over to a second websocket while
 * the first is open ({@code handoverChance}; the first must get 4001), either of them sometimes
 * with a message still unanswered ({@code midflightChance}). After {@code minExchanges} to
 * {@code maxExchanges} messages it departs with close 1000, which ends its session and removes its
 * container. It survives the faults: a drop (gateway killed, container killed) is followed by
 * reconnects with backoff and a resume; a refused handshake (503 while the engine is cut, or no
 * gateway listening) is retried, after 5 s for a 503; a user without a connection for
 * {@code giveUpAfter} seconds gives up (a KO).
 *
 * <p>Gatling's websocket DSL moves the frames; the protocol is in plain Java. What makes that work
 * (Gatling 3.15): (1) a message no check is waiting for lands in the websocket's unmatched-message
 * buffer ({@code wsUnmatchedInboundMessageBufferSize}), which the user reads with {@code
 * processUnmatchedMessages} right before every send (a send clears it), in the same event-loop task,
 * so no message slips in between; (2) every check takes the next message, whatever it is, and the
 * user reads the buffer after it: a check with {@code matching} would skip other messages, and
 * Gatling drops a text message a text check skipped (it never reaches the buffer), which looked
 * exactly like a frame lost by the gateway; (3) waiting without a new data message is done by
 * sending {@code ack <lastReceived>} (valid at any time) with such a check; (4) whether a websocket
 * is still open is read from Gatling's own state for it ({@link WsProbe}), since a close that comes
 * while no check is pending is otherwise invisible to the scenario.
 */
public class SoakSimulation extends Simulation {

    private final double minutes = Double.parseDouble(System.getProperty("minutes", "3"));
    private final double arrivalsPerSec = Double.parseDouble(System.getProperty("arrivalsPerSec", "0.4"));
    private final int minExchanges = Settings.integer("minExchanges", 5);
    private final int maxExchanges = Settings.integer("maxExchanges", 140);
    private final int exchangeEveryMs = Settings.integer("exchangeEveryMs", 1000);
    private final int messageBytes = Settings.integer("messageBytes", 64);
    private final double reconnectChance = Double.parseDouble(System.getProperty("reconnectChance", "0.01"));
    private final double handoverChance = Double.parseDouble(System.getProperty("handoverChance", "0.01"));
    private final double midflightChance = Double.parseDouble(System.getProperty("midflightChance", "0.5"));
    private final Duration echoTimeout = Settings.seconds("echoTimeout", 10);
    private final Duration resumeTimeout = Settings.seconds("resumeTimeout", 10);
    private final Duration giveUpAfter = Settings.seconds("giveUpAfter", 120);
    private final int statsEvery = Settings.integer("statsEvery", 10);
    private final Path statsFile =
            Path.of(System.getProperty("statsFile", "target/soak-client.csv")).toAbsolutePath();
    private final Path eventsFile = Path.of(System.getProperty("eventsFile", "target/soak-client-events.csv"))
            .toAbsolutePath();

    private static final String CLIENT = "client";
    private static final String WS = "ws"; // session attribute: the name of the user's current websocket
    private static final String OLD_WS = "oldWs"; // the older websocket during a handover
    private static final String IN = "in"; // the message a check took

    private static ResumeClient client(Session s) {
        return s.get(CLIENT);
    }

    private static String currentWs(Session s) {
        return s.getString(WS);
    }

    /** Counts a Gatling KO of the action just done (a failed check, handshake or close) and clears it. */
    private static Session settle(Session s) {
        if (s.isFailed()) {
            SoakStats.inc(SoakStats.Counter.GATLING_KO);
            return s.markAsSucceeded();
        }
        return s;
    }

    /** Runs {@code f}; a bug in it is counted and logged instead of stopping the user silently. */
    private static ChainBuilder run(Function<Session, Session> f) {
        return exec(s -> {
            try {
                return f.apply(s);
            } catch (RuntimeException e) {
                long user = s.userId();
                SoakStats.inc(SoakStats.Counter.KO);
                SoakStats.event(user, "simulation_bug", e.toString());
                e.printStackTrace();
                return s;
            }
        });
    }

    /** Hands every message buffered on websocket {@code wsName} to the client, in arrival order. */
    private static ChainBuilder receive(String wsName) {
        return doIf(s -> WsProbe.exists(s, s.getString(wsName)))
                .then(exec(ws.processUnmatchedMessages(
                        s -> s.getString(wsName), (List<WsInboundMessage> messages, Session s) -> {
                            ResumeClient c = client(s);
                            for (WsInboundMessage message : messages) {
                                if (message instanceof WsInboundMessage.Text text) {
                                    c.received(text.message(), text.timestamp());
                                } else {
                                    c.protocolError("a binary message (every frame of this soak is text)");
                                }
                            }
                            return s;
                        })));
    }

    /**
     * Looks at the current websocket: when the client thought it open and Gatling has it closed,
     * the client hears of the drop (after its last messages were read) and the websocket is dropped
     * from the session, so a new one may take its name.
     */
    private static Session notice(Session s) {
        ResumeClient c = client(s);
        String name = currentWs(s);
        String state = WsProbe.state(s, name);
        if (c.socketOpen() && !WsProbe.open(state)) {
            c.dropped(WsProbe.error(s, name));
        }
        if (!WsProbe.open(state) && !state.equals("none")) {
            s = s.remove(name);
        }
        return s;
    }

    private ChainBuilder connectAs(String requestName) {
        return run(s -> {
                    // Whatever held the name is closed by now (notice() removed it); anything left is stale.
                    String name = currentWs(s);
                    if (!WsProbe.open(WsProbe.state(s, name))) {
                        s = s.remove(name);
                    }
                    return s.remove("answer");
                })
                .exec(ws(requestName)
                        .wsName("#{" + WS + "}")
                        .connect(Settings.wsPath())
                        .subprotocol(ResumeClient.PROTOCOL))
                .exec(run(s -> {
                    ResumeClient c = client(s);
                    String name = currentWs(s);
                    if (WsProbe.open(WsProbe.state(s, name)) && !s.isFailed()) {
                        c.connected(requestName.equals("reconnect"));
                    } else {
                        c.connectFailed(System.currentTimeMillis(), WsProbe.error(s, name));
                        s = s.remove(name);
                    }
                    return settle(s);
                }))
                .doIf(s -> client(s).socketOpen())
                .then(resume());
    }

    /** resume r stream, its answer, then what the outbox holds again. */
    private ChainBuilder resume() {
        return exec(receive(WS))
                .exec(ws("resume")
                        .wsName("#{" + WS + "}")
                        .sendText(s -> client(s).resumeMessage())
                        .await(resumeTimeout)
                        .on(ws.checkTextMessage("resume answer")
                                .check(bodyString().saveAs("answer"))))
                .exec(run(s -> {
                    ResumeClient c = client(s);
                    boolean open = WsProbe.open(WsProbe.state(s, currentWs(s)));
                    s = settle(s);
                    if (s.contains("answer")) {
                        if (!c.resumeAnswer(s.getString("answer"), System.currentTimeMillis())) {
                            return s.set("closeNow", true);
                        }
                    } else if (open) {
                        c.resumeTimedOut();
                        return s.set("closeNow", true);
                    }
                    return s.set("closeNow", false);
                }))
                .doIf(s -> s.getBoolean("closeNow"))
                .then(exec(s -> {
                            client(s).dropped("closed by the user: no usable resume answer");
                            return s;
                        })
                        .exec(ws("close broken").wsName("#{" + WS + "}").close(1001, "resume failed"))
                        .exec(SoakSimulation::settle))
                .asLongAs(
                        s -> client(s).hasResend() && client(s).ready() && WsProbe.open(WsProbe.state(s, currentWs(s))))
                .on(exec(receive(WS))
                        .exec(s -> s.set("frame", client(s).nextResend()))
                        .exec(ws("resend").wsName("#{" + WS + "}").sendText("#{frame}")));
    }

    /** One message, then its echo (and whatever comes before it). */
    private ChainBuilder send() {
        return pause(s -> Duration.ofMillis(client(s).sendDelay(System.currentTimeMillis())))
                .exec(receive(WS))
                .exec(run(s -> {
                    s = notice(s);
                    ResumeClient c = client(s);
                    if (!c.ready()) {
                        return s.set("go", false);
                    }
                    String ack = c.pendingAck();
                    String frame = c.nextMessage(System.currentTimeMillis());
                    return s.set("go", true)
                            .set("ack", ack == null ? "" : ack)
                            .set("frame", frame)
                            .remove(IN);
                }))
                .doIf(s -> s.getBoolean("go"))
                .then(doIf(s -> !s.getString("ack").isEmpty())
                        .then(exec(ws("ack").wsName("#{" + WS + "}").sendText("#{ack}")))
                        // The check takes the next message, whatever it is: a check that skipped messages
                        // (matching) would lose them, as Gatling keeps only messages no check is waiting for.
                        .exec(ws("message")
                                .wsName("#{" + WS + "}")
                                .sendText("#{frame}")
                                .await(echoTimeout)
                                .on(ws.checkTextMessage("reply")
                                        .check(bodyString().saveAs(IN))))
                        .exec(SoakSimulation::settle)
                        .exec(run(SoakSimulation::takeIn))
                        .exec(receive(WS))
                        .exec(awaitEcho()));
    }

    /** The message a check took: it came before anything in the buffer. */
    private static Session takeIn(Session s) {
        if (s.contains(IN)) {
            client(s).received(s.getString(IN), System.currentTimeMillis());
            s = s.remove(IN);
        }
        return s;
    }

    /**
     * While an echo is due and the connection works: wait for the next message by sending {@code ack
     * <lastReceived>} (valid at any time) with a check that takes whatever comes next, up to 2 s at a
     * time. Bounded by the echo's deadline.
     */
    private ChainBuilder awaitEcho() {
        return asLongAs(s -> client(s).echoOutstanding()
                        && client(s).ready()
                        && System.currentTimeMillis() < client(s).echoDeadline())
                .on(exec(receive(WS))
                        .exec(run(s -> {
                            s = notice(s);
                            ResumeClient c = client(s);
                            boolean go = c.ready() && c.echoOutstanding();
                            long wait = Math.max(1, Math.min(2_000, c.echoDeadline() - System.currentTimeMillis()));
                            return go
                                    ? s.set("go", true)
                                            .set("ack", c.ackForAwait())
                                            .set("waitMs", wait)
                                            .remove(IN)
                                    : s.set("go", false);
                        }))
                        .doIf(s -> s.getBoolean("go"))
                        .then(exec(ws("ack and wait")
                                        .wsName("#{" + WS + "}")
                                        .sendText("#{ack}")
                                        .await(s -> Duration.ofMillis(s.getLong("waitMs")))
                                        .on(ws.checkTextMessage("next message")
                                                .check(bodyString().saveAs(IN))
                                                .silent()))
                                .exec(SoakSimulation::settle)
                                .exec(run(SoakSimulation::takeIn))
                                .exec(receive(WS))));
    }

    /** Leaves with 1001 (sometimes with a message unanswered) and comes back with the cookie. */
    private ChainBuilder leave() {
        return exec(receive(WS))
                .exec(run(s -> {
                    ResumeClient c = client(s);
                    boolean midflight = c.midflight();
                    if (midflight) {
                        String ack = c.pendingAck();
                        s = s.set("ack", ack == null ? "" : ack)
                                .set("frame", c.nextMessage(System.currentTimeMillis()));
                    }
                    return s.set("midflight", midflight);
                }))
                .doIf(s -> s.getBoolean("midflight"))
                .then(doIf(s -> !s.getString("ack").isEmpty())
                        .then(exec(ws("ack").wsName("#{" + WS + "}").sendText("#{ack}")))
                        .exec(ws("send before leaving").wsName("#{" + WS + "}").sendText("#{frame}")))
                .exec(receive(WS))
                .exec(s -> {
                    client(s).leaving(false);
                    return s;
                })
                .exec(ws("leave").wsName("#{" + WS + "}").close(1001, "going away"))
                .exec(run(s -> settle(s).remove(currentWs(s))))
                .exec(connectAs("reconnect"));
    }

    /** Opens a second websocket for the session while the first is open: the first must get 4001. */
    private ChainBuilder handover() {
        return exec(receive(WS))
                .exec(run(s -> {
                    ResumeClient c = client(s);
                    boolean midflight = c.midflight();
                    if (midflight) {
                        String ack = c.pendingAck();
                        s = s.set("ack", ack == null ? "" : ack)
                                .set("frame", c.nextMessage(System.currentTimeMillis()));
                    }
                    return s.set("midflight", midflight);
                }))
                .doIf(s -> s.getBoolean("midflight"))
                .then(doIf(s -> !s.getString("ack").isEmpty())
                        .then(exec(ws("ack").wsName("#{" + WS + "}").sendText("#{ack}")))
                        .exec(ws("send before handover").wsName("#{" + WS + "}").sendText("#{frame}")))
                .exec(receive(
                        WS)) // the last look at the older websocket: what comes on it later is replayed on the newer
                .exec(run(s -> {
                    client(s).leaving(true);
                    String old = currentWs(s);
                    return s.set(OLD_WS, old)
                            .set(WS, old.equals("a") ? "b" : "a")
                            .set("handoverUntil", System.currentTimeMillis() + 5_000);
                }))
                .exec(connectAs("handover"))
                .asLongAs(s -> WsProbe.open(WsProbe.state(s, s.getString(OLD_WS)))
                        && System.currentTimeMillis() < s.getLong("handoverUntil"))
                .on(pause(Duration.ofMillis(50)))
                .exec(run(s -> {
                    boolean stillOpen = WsProbe.open(WsProbe.state(s, s.getString(OLD_WS)));
                    if (stillOpen) {
                        client(s).handoverLeftOpen();
                    } else {
                        s = s.remove(s.getString(OLD_WS));
                    }
                    return s.set("closeOld", stillOpen);
                }))
                .doIf(s -> s.getBoolean("closeOld"))
                .then(exec(ws("close older").wsName("#{" + OLD_WS + "}").close(1001, "handed over"))
                        .exec(SoakSimulation::settle));
    }

    /** Close 1000: the session ends and its container is removed. */
    private ChainBuilder depart() {
        return exec(receive(WS))
                .exec(run(s -> {
                    s = notice(s);
                    return s.set("go", client(s).ready());
                }))
                .doIf(s -> s.getBoolean("go"))
                .then(exec(ws("depart").wsName("#{" + WS + "}").close(1000, "done"))
                        .exec(run(s -> {
                            ResumeClient c = client(s);
                            if (s.isFailed()) {
                                c.dropped("close 1000 not acknowledged"); // comes back and departs again
                            } else {
                                c.departed();
                            }
                            return settle(s).remove(currentWs(s));
                        })));
    }

    private ChainBuilder giveUp() {
        return exec(run(s -> {
                    s = notice(s);
                    boolean open = WsProbe.open(WsProbe.state(s, currentWs(s)));
                    client(s).giveUp(System.currentTimeMillis());
                    return s.set("go", open);
                }))
                .doIf(s -> s.getBoolean("go"))
                .then(exec(ws("close at give-up").wsName("#{" + WS + "}").close(1000, "giving up"))
                        .exec(SoakSimulation::settle));
    }

    private ScenarioBuilder soak() {
        long deadlineSlack = giveUpAfter.toMillis() * 2 + 120_000;
        return scenario("soak: resume clients through faults")
                .exec(s -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    int exchanges = random.nextInt(minExchanges, maxExchanges + 1);
                    long lifetime = (long) exchanges * exchangeEveryMs;
                    ResumeClient.Plan plan = new ResumeClient.Plan(
                            exchanges,
                            exchangeEveryMs,
                            messageBytes,
                            reconnectChance,
                            handoverChance,
                            midflightChance,
                            echoTimeout.toMillis(),
                            giveUpAfter.toMillis(),
                            System.currentTimeMillis() + lifetime * 2 + deadlineSlack);
                    SoakStats.inc(SoakStats.Counter.USERS_STARTED);
                    SoakStats.USERS_ACTIVE.incrementAndGet();
                    return s.set(CLIENT, new ResumeClient(s.userId(), plan)).set(WS, "a");
                })
                // Bounded: every step either progresses or waits with a timeout, and nextStep() gives up
                // past the user's deadline (twice its planned time plus slack).
                .asLongAs(s -> !client(s).finished())
                .on(exec(receive(WS))
                        .exec(run(s -> {
                            s = notice(s);
                            return s.set("step", client(s).nextStep(System.currentTimeMillis()));
                        }))
                        .doSwitch("#{step}")
                        .on(
                                onCase("connect")
                                        .then(pause(s -> Duration.ofMillis(
                                                        client(s).connectDelay(System.currentTimeMillis())))
                                                .exec(doIfOrElse(s -> client(s).everConnected())
                                                        .then(connectAs("reconnect"))
                                                        .orElse(connectAs("connect")))),
                                onCase("send").then(send()),
                                onCase("await").then(awaitEcho()),
                                onCase("leave").then(leave()),
                                onCase("handover").then(handover()),
                                onCase("depart").then(depart()),
                                onCase("giveup").then(giveUp())))
                .exec(s -> {
                    client(s).finish();
                    SoakStats.USERS_ACTIVE.decrementAndGet();
                    return s;
                });
    }

    private HttpProtocolBuilder protocol() {
        // Every message no check waits for is kept for processUnmatchedMessages (the user reads the
        // buffer before each send; at ~2 messages a second, 10,000 is never reached).
        return BerthSession.protocol().wsUnmatchedInboundMessageBufferSize(10_000);
    }

    @Override
    public void before() {
        SoakStats.start(statsFile, eventsFile, statsEvery);
        System.out.println("SoakSimulation: client counters every " + statsEvery + " s in " + statsFile + ", events in "
                + eventsFile);
    }

    @Override
    public void after() {
        SoakStats.stop();
        System.out.print(SoakStats.summary());
    }

    {
        Duration during = Duration.ofMillis(Math.round(minutes * 60_000));
        Settings.describe(
                "SoakSimulation",
                arrivalsPerSec + " users/s for " + minutes + " min, each " + minExchanges + "-"
                        + maxExchanges + " messages of " + messageBytes + " bytes, one every " + exchangeEveryMs
                        + " ms (about "
                        + Math.round(arrivalsPerSec * (minExchanges + maxExchanges) / 2.0 * exchangeEveryMs / 1000.0)
                        + " sessions alive); per message: reconnect " + reconnectChance + ", handover " + handoverChance
                        + ", midflight " + midflightChance);
        setUp(soak().injectOpen(constantUsersPerSec(arrivalsPerSec)
                        .during(during)
                        .randomized()))
                .protocols(protocol())
                // The last arrivals hold their sessions up to maxExchanges * exchangeEvery (plus faults).
                .maxDuration(during.plus(Duration.ofMillis((long) maxExchanges * exchangeEveryMs * 2))
                        .plus(giveUpAfter.multipliedBy(2))
                        .plus(Duration.ofMinutes(2)));
    }

    /**
     * Reads Gatling's own state of a user's websocket (Gatling 3.15: the {@code WsFsm} stored in the
     * session under the websocket's name, field {@code currentState}): {@code WsIdleState} and
     * {@code WsPerformingCheckState} are open, {@code WsCrashedState} closed by the peer or broken
     * (its {@code errorMessage} says why when Gatling knows), {@code none} when the session holds no
     * websocket of that name. Reflection, because the DSL has no way to ask; a newer Gatling that
     * renames these fails loudly here at the first user.
     */
    static final class WsProbe {
        private static final Field STATE;
        private static final Field ERROR;

        static {
            try {
                STATE = Class.forName("io.gatling.http.action.ws.fsm.WsFsm").getDeclaredField("currentState");
                STATE.setAccessible(true);
                ERROR = Class.forName("io.gatling.http.action.ws.fsm.WsCrashedState")
                        .getDeclaredField("errorMessage");
                ERROR.setAccessible(true);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError("Gatling's websocket internals changed: " + e);
            }
        }

        private WsProbe() {}

        private static Object fsm(Session s, String name) {
            if (name == null) {
                return null;
            }
            scala.Option<Object> value = s.asScala().attributes().get(name);
            return value.isDefined() ? value.get() : null;
        }

        static boolean exists(Session s, String name) {
            return fsm(s, name) != null;
        }

        static String state(Session s, String name) {
            Object fsm = fsm(s, name);
            if (fsm == null) {
                return "none";
            }
            try {
                return STATE.get(fsm).getClass().getSimpleName();
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }

        static boolean open(String state) {
            return state.equals("WsIdleState") || state.equals("WsPerformingCheckState");
        }

        /** The crashed websocket's error, or "". */
        static String error(Session s, String name) {
            Object fsm = fsm(s, name);
            if (fsm == null) {
                return "";
            }
            try {
                Object state = STATE.get(fsm);
                if (ERROR.getDeclaringClass().isInstance(state)) {
                    Object message = ERROR.get(state);
                    if (message instanceof scala.Option<?> option && option.isDefined()) {
                        return String.valueOf(option.get());
                    }
                }
                return "";
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
