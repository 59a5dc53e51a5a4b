package dev.berth.gateway;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigException;
import dev.berth.gateway.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Starts the gateway: {@code java -jar berth-gateway.jar [--config config/berth.yaml] [--port N]}.
 * A bad config file stops it at once with a message naming the file, key and fix (exit 2).
 */
public final class Main {

    static {
        System.setProperty(
                "java.util.logging.SimpleFormatter.format",
                System.getProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n"));
    }

    private static final Logger LOG = Logger.getLogger(Main.class.getName());
    private static final long SHUTDOWN_WAIT_SECONDS = 30;
    private static final AtomicBoolean SHUTTING_DOWN = new AtomicBoolean();

    private Main() {}

    public static void main(String[] args) {
        BerthConfig config;
        try {
            config = configFrom(args);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("berth: " + e.getMessage());
            System.exit(2);
            return;
        }
        // Linux's epoll when its library loads (less CPU per frame than the JDK's selector), else NIO.
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        LOG.info(
                vertx.isNativeTransportEnabled()
                        ? "network transport: epoll"
                        : "network transport: NIO (epoll unavailable: " + vertx.unavailableNativeTransportCause()
                                + ")");
        GatewayVerticle gateway = new GatewayVerticle(config);
        vertx.deployVerticle(gateway).onFailure(error -> {
            System.err.println("berth: cannot start: " + error.getMessage());
            vertx.close().onComplete(closed -> System.exit(1));
        });
        long drainSeconds = config.sessions().drainDeadline().toSeconds();
        shutDownGracefullyOn(vertx, gateway, drainSeconds, "TERM");
        shutDownGracefullyOn(vertx, gateway, 0, "INT");
        // SIGHUP: read the config file again (the outcome is logged either way).
        handle(
                "HUP",
                received -> gateway.reload("SIGHUP"),
                "reload the config (the file watch and ./berth reload still do)");
    }

    /**
     * Handles the signal, and says so when this process was started with it ignored (nohup ignores
     * SIGHUP): the JVM then keeps it ignored, and the signal would do nothing without a word.
     */
    private static void handle(String signal, SignalHandler handler, String whatItDoes) {
        if (Signal.handle(new Signal(signal), handler) == SignalHandler.SIG_IGN) {
            LOG.warning("SIG" + signal
                    + " is ignored by this process (started under nohup, or by a parent that ignores it):"
                    + " it will not " + whatItDoes
                    + ". Start the gateway with the signal's default action (e.g. setsid rather"
                    + " than nohup, or a process manager)");
        }
    }

    /**
     * Handles the signals itself rather than in a shutdown hook: JUL's own hook would close the log
     * handlers while sessions are still ending, and the shutdown would go unlogged. SIGTERM (a
     * process manager, a rolling upgrade) drains first; SIGINT (Ctrl-C) and a second signal during
     * a drain stop at once. Either way sessions are then kept or ended as sessions.onShutdown says.
     */
    private static void shutDownGracefullyOn(Vertx vertx, GatewayVerticle gateway, long drainSeconds, String signal) {
        handle(
                signal,
                received -> {
                    if (!SHUTTING_DOWN.compareAndSet(false, true)) {
                        LOG.info("SIG" + received.getName() + " again: stopping now");
                        gateway.endDrain();
                        return;
                    }
                    LOG.info("SIG" + received.getName() + ": shutting down"
                            + (drainSeconds > 0 ? " after a drain" : ""));
                    int status = 0;
                    try {
                        if (drainSeconds > 0) {
                            gateway.drain().await(drainSeconds + SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
                        }
                        vertx.close().await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
                        LOG.info("shut down cleanly");
                    } catch (Exception e) {
                        LOG.severe("shutdown did not finish in time: " + e);
                        status = 1;
                    }
                    System.exit(status);
                },
                "shut the gateway down gracefully");
    }

    static BerthConfig configFrom(String[] args) {
        Path file = Path.of("config", "berth.yaml");
        Integer port = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--config" -> file = Path.of(required(args[i], value));
                case "--port" -> port = parsePort(required(args[i], value));
                default ->
                    throw new IllegalArgumentException("unknown argument '" + args[i]
                            + "'. Usage: java -jar berth-gateway.jar [--config FILE] [--port N]");
            }
            i++;
        }
        BerthConfig config = ConfigLoader.load(file);
        return port == null ? config : config.withListenPort(port);
    }

    private static String required(String flag, String value) {
        if (value == null) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return value;
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("--port takes a number from 0 to 65535, not '" + text + "'");
    }
}
