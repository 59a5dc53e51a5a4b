package dev.berth.gateway.launcher;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.logging.Logger;

/** Picks the launcher the configuration asks for; {@code auto} prefers docker and says why. */
public final class LauncherFactory {

    /** Where a gateway gets its launcher: {@link #create} in production, a fake one in fast tests. */
    @FunctionalInterface
    public interface Source {
        Future<Launcher> create(Vertx vertx, BerthConfig config, EngineWatch watch);
    }

    private static final Logger LOG = Logger.getLogger(LauncherFactory.class.getName());

    private LauncherFactory() {}

    public static Future<Launcher> create(Vertx vertx, BerthConfig config, EngineWatch watch) {
        return switch (config.launcher()) {
            case DOCKER ->
                DockerLauncher.connect(vertx, config, watch)
                        .onSuccess(launcher -> LOG.info("launcher docker: configured; engine at "
                                + config.docker().host()));
            case SWARM ->
                SwarmLauncher.connect(
                                vertx,
                                config.docker(),
                                config.routes(),
                                config.sessions().gatewayId())
                        .onSuccess(launcher -> LOG.info("launcher swarm: configured; manager at "
                                + config.docker().host()
                                + ", tasks dialled at their "
                                + (config.docker().swarm().dial() == dev.berth.gateway.config.DockerConfig.Dial.TASK
                                        ? "address on "
                                                + config.docker().swarm().network() + ", on this node"
                                        : "published port, on any node")));
            case KUBERNETES -> KubernetesLauncher.connect(vertx, config);
            case PROCESS -> {
                LOG.info("launcher process: configured; handlers run as child processes in "
                        + config.workingDirectory());
                yield Future.succeededFuture(new ProcessLauncher(vertx, config.workingDirectory()));
            }
            case FIXED -> {
                LOG.info(
                        "launcher fixed: configured; sessions are piped to their route's fixed.backends, nothing is launched"
                                + " or isolated");
                yield Future.succeededFuture(new FixedLauncher());
            }
            case AUTO ->
                DockerLauncher.connect(vertx, config, watch)
                        .onSuccess(launcher -> LOG.info("launcher auto: picked docker, an engine answers at "
                                + config.docker().host()))
                        .recover(error -> {
                            if (error instanceof FailureException launch
                                    && launch.failure() == Failure.ENGINE_UNAVAILABLE) {
                                LOG.info("launcher auto: picked process, " + error.getMessage());
                                return Future.succeededFuture(new ProcessLauncher(vertx, config.workingDirectory()));
                            }
                            return Future.failedFuture(error);
                        });
        };
    }
}
