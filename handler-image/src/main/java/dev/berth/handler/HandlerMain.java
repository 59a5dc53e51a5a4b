package dev.berth.handler;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Entry point of the session container: reads the BERTH_* environment, starts the server and
 * exits when the session is over (SIGTERM, or no websocket for the idle grace).
 *
 * <p>Exit status: 0 after an idle exit, 2 for a bad setting or argument, 1 when the server
 * cannot start, 143 after SIGTERM (the JVM's usual status for it).
 *
 * <p>The only argument, {@code --self-test}, starts on a free port, runs {@link SelfTest} against
 * itself and exits 0 (or 1); the image build uses it to record a class archive.
 *
 * <p>Start time is the point of this code (a session waits for it): plain JDK only, no lambdas,
 * streams, regular expressions or logging framework on the way to "listening", and nothing that
 * may wait on the network (the hostname comes from the environment, not from a resolver).
 */
public final class HandlerMain {

    /** Bound on the whole shutdown: websocket close handshakes, then the server. */
    static final long SHUTDOWN_MILLIS = 2_000;

    static final int EXIT_BAD_CONFIG = 2;

    private HandlerMain() {}

    public static void main(String[] args) {
        boolean selfTest = args.length == 1 && "--self-test".equals(args[0]);
        if (args.length > 0 && !selfTest) {
            badSetting("unknown arguments " + String.join(" ", args) + "; accepted: none, or --self-test");
        }
        HandlerConfig config = null;
        try {
            config = HandlerConfig.fromEnv(System.getenv());
        } catch (HandlerConfig.InvalidConfig e) {
            badSetting(e.getMessage());
        }
        if (selfTest) {
            config = config.withPort(0).withTestHooks(true); // it probes its own port
        }
        HandlerLog log = new HandlerLog(config.session() == null ? "pool" : config.session());
        SessionState state = SessionState.of(config);
        HandlerServer server = new HandlerServer(config, state, hostname(System.getenv()), log, new IdleExit());
        Runtime.getRuntime().addShutdownHook(new Thread(new Shutdown(server, state, log), "berth-shutdown"));
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            log.info("cannot start: " + e);
            System.exit(1);
        }
        // Listening: what follows is off the start's critical path.
        if (config.session() == null) {
            Warmup.claimPath();
        }
        if (selfTest) {
            try {
                SelfTest.run(server.actualPort(), log);
            } catch (Exception e) {
                log.info(
                        e.getMessage() != null && e.getMessage().startsWith("self-test")
                                ? e.getMessage()
                                : "self-test failed: " + e);
                System.exit(1);
            }
            System.exit(0);
        }
    }

    /** Prints what is wrong (one line on stderr) and exits 2. */
    private static void badSetting(String message) {
        System.err.println("berth-handler: " + message);
        System.exit(EXIT_BAD_CONFIG);
    }

    /**
     * The container's hostname: $HOSTNAME (Docker sets it to the container's), else the kernel's,
     * else "unknown". No resolver: InetAddress.getLocalHost() fails or waits without a network.
     */
    static String hostname(Map<String, String> env) {
        String name = env.get("HOSTNAME");
        if (name != null && !name.isBlank()) {
            return name.trim();
        }
        try (FileInputStream in = new FileInputStream("/proc/sys/kernel/hostname")) {
            String kernel = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (!kernel.isEmpty()) {
                return kernel;
            }
        } catch (IOException e) {
            // not Linux
        }
        return "unknown";
    }

    /**
     * The idle grace expired: exit 0, from a thread of its own (exiting runs the shutdown hook, which
     * needs the scheduler).
     */
    private static final class IdleExit implements Runnable {
        @Override
        public void run() {
            Thread exit = new Thread(new Exit(), "berth-idle-exit");
            exit.start();
        }
    }

    private static final class Exit implements Runnable {
        @Override
        public void run() {
            System.exit(0);
        }
    }

    /** SIGTERM (or any exit): close the websockets with 1001 "session over", within {@link #SHUTDOWN_MILLIS}. */
    private static final class Shutdown implements Runnable {
        private final HandlerServer server;
        private final SessionState state;
        private final HandlerLog log;

        Shutdown(HandlerServer server, SessionState state, HandlerLog log) {
            this.server = server;
            this.state = state;
            this.log = log;
        }

        @Override
        public void run() {
            log.info("shutdown: closing " + state.openConnections() + " websocket(s) with 1001 \"session over\"");
            server.closeAll(1001, "session over", SHUTDOWN_MILLIS);
            server.stop();
            log.info("shutdown complete after " + state.connections() + " connection(s), " + state.framesReceived()
                    + " frames echoed");
        }
    }

    /**
     * A pooled handler waits to be claimed, and then its first message decides how fast its session
     * starts: run that code once now, while no one waits, so the claim itself is warm.
     */
    static final class Warmup {
        private Warmup() {}

        static void claimPath() {
            try {
                for (int i = 0; i < 20; i++) {
                    Map<String, Object> claim =
                            Json.parseObject("{\"cmd\":\"claim\",\"session\":\"warm-up-" + i + "\"}");
                    new Json.Writer()
                            .put("type", "hello")
                            .put("session", (String) claim.get("session"))
                            .put("version", "v")
                            .put("hostname", "h")
                            .put("connection", i)
                            .toString()
                            .getBytes(StandardCharsets.UTF_8);
                }
                HttpConnection.acceptKey("dGhlIHNhbXBsZSBub25jZQ==");
            } catch (Json.ParseException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
