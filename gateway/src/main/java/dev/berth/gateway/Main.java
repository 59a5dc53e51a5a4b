package dev.berth.gateway;

import dev.berth.gateway.admin.BerthCommand;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigException;
import dev.berth.gateway.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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
        if (config == null) {
            return; // it asked for help or the version
        }
        Logs.apply(config.log());
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

    /** The gateway's command line: {@code --config}, {@code --port}, {@code --help}, {@code --version}. */
    @Command(
            name = "berth-gateway",
            mixinStandardHelpOptions = true,
            versionProvider = BerthCommand.Version.class,
            description = "Starts a Berth gateway (the README's ./run.sh does, after building it).")
    static final class Arguments {
        @Option(
                names = "--config",
                paramLabel = "FILE",
                description = "the config file (default: ${DEFAULT-VALUE}); ./berth check FILE checks one")
        Path file = Path.of("config", "berth.yaml");

        @Option(names = "--port", paramLabel = "N", description = "listen on this port instead of listen.port")
        Integer port;

        @Option(
                names = "--gateway-id",
                paramLabel = "ID",
                description = "this gateway's sessions.gatewayId, e.g. its pod's name on Kubernetes")
        String gatewayId;
    }

    /**
     * The config the command line names, or null when it asked for help or the version (printed);
     * an {@link IllegalArgumentException} for a usage mistake.
     */
    static BerthConfig configFrom(String[] args) {
        Arguments arguments = new Arguments();
        CommandLine line = new CommandLine(arguments);
        CommandLine.ParseResult parsed;
        try {
            parsed = line.parseArgs(args);
        } catch (CommandLine.ParameterException mistake) {
            throw new IllegalArgumentException(
                    mistake.getMessage() + ". Usage: java -jar berth-gateway.jar [--config FILE] [--port N]");
        }
        if (CommandLine.printHelpIfRequested(parsed)) {
            return null;
        }
        if (arguments.port != null && (arguments.port < 0 || arguments.port > 65535)) {
            throw new IllegalArgumentException("--port takes a number from 0 to 65535, not " + arguments.port);
        }
        BerthConfig config = ConfigLoader.load(arguments.file);
        if (arguments.gatewayId != null) {
            config = config.withGatewayId(arguments.gatewayId);
        }
        return arguments.port == null ? config : config.withListenPort(arguments.port);
    }
}
