package dev.berth.gateway.launcher;

import dev.berth.gateway.config.BerthConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.logging.Logger;

/** Picks the launcher the configuration asks for; {@code auto} prefers docker and says why. */
public final class LauncherFactory {

  private static final Logger LOG = Logger.getLogger(LauncherFactory.class.getName());

  private LauncherFactory() {}

  public static Future<Launcher> create(Vertx vertx, BerthConfig config) {
    return switch (config.launcher()) {
      case DOCKER -> DockerLauncher.connect(vertx, config.docker(), config.routes())
          .onSuccess(launcher -> LOG.info("launcher docker: configured; engine at " + config.docker().host()));
      case PROCESS -> {
        LOG.info("launcher process: configured; handlers run as child processes in " + config.workingDirectory());
        yield Future.succeededFuture(new ProcessLauncher(vertx, config.workingDirectory()));
      }
      case AUTO -> DockerLauncher.connect(vertx, config.docker(), config.routes())
          .onSuccess(launcher -> LOG.info("launcher auto: picked docker, an engine answers at " + config.docker().host()))
          .recover(error -> {
            if (error instanceof LaunchException launch && launch.failure() == LaunchFailure.ENGINE_UNAVAILABLE) {
              LOG.info("launcher auto: picked process, " + error.getMessage());
              return Future.succeededFuture(new ProcessLauncher(vertx, config.workingDirectory()));
            }
            return Future.failedFuture(error);
          });
    };
  }
}
