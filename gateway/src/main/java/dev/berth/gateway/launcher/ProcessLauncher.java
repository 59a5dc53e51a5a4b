package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Runs each session's handler as a child process on loopback, for machines with no Docker engine.
 * It keeps the launcher contract (one backend per session, ready before use, stop is idempotent)
 * but not the container's isolation: no resource limits, and all sessions share this host.
 */
final class ProcessLauncher implements Launcher {

    private static final String LOOPBACK = "127.0.0.1";

    private final Vertx vertx;
    private final Context context;
    private final Path workingDirectory;
    private final TwoPhaseLaunch launches;

    ProcessLauncher(Vertx vertx, Path workingDirectory) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.workingDirectory = workingDirectory;
        this.launches = new TwoPhaseLaunch(vertx);
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        return launches.run(request, () -> start(request));
    }

    private Future<Backend> start(LaunchRequest request) {
        return vertx.executeBlocking(
                        () -> {
                            int port = freeLoopbackPort();
                            ProcessBuilder builder = new ProcessBuilder(
                                            request.route().command())
                                    .directory(workingDirectory.toFile())
                                    .redirectErrorStream(true)
                                    .redirectOutput(ProcessBuilder.Redirect.INHERIT);
                            builder.environment()
                                    .putAll(HandlerEnvironment.of(request, port)
                                            .with("BERTH_HOST", LOOPBACK)
                                            .variables());
                            return new Started(builder.start(), port);
                        },
                        false)
                .map(started -> backendOf(started, request))
                .recover(error -> Future.failedFuture(FailureException.wrap(
                        error,
                        Failure.START_FAILED,
                        "cannot run " + request.route().command() + " ("
                                + request.route().key("process.command") + ") in " + workingDirectory)));
    }

    private Backend backendOf(Started started, LaunchRequest request) {
        Process process = started.process();
        Promise<String> exit = Promise.promise();
        process.onExit()
                .thenAccept(gone ->
                        context.runOnContext(v -> exit.tryComplete("process exited with status " + gone.exitValue())));
        String description =
                "process " + process.pid() + " (" + (request.pooled() ? "" : "session ") + request.sessionKey() + ")";
        return new Backend(
                description,
                request.pooled() ? null : request.sessionKey(),
                request.route().name(),
                request.route().version(),
                SocketAddress.inetSocketAddress(started.port(), LOOPBACK),
                exit.future(),
                () -> stop(process, exit.future(), request.route().timeouts().stop()));
    }

    /** SIGTERM, then SIGKILL if it has not exited within the route's stop timeout. */
    private Future<Void> stop(Process process, Future<String> exited, Duration grace) {
        process.destroy();
        long timer = vertx.setTimer(Math.max(1, grace.toMillis()), id -> process.destroyForcibly());
        return exited.onComplete(done -> vertx.cancelTimer(timer)).mapEmpty();
    }

    /** The OS picks a free port; the tiny window before the child binds it is acceptable here. */
    private static int freeLoopbackPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A child process serves one gateway only: claiming it cannot race. */
    @Override
    public Future<Backend> claim(Backend pooled, String sessionKey) {
        return Future.succeededFuture(pooled.claimedBy(
                sessionKey, pooled.description().replace(")", ", session " + sessionKey + ")"), pooled.reference));
    }

    /** Child processes are not found again: a gateway that went away took their addresses with it. */
    @Override
    public Future<List<Backend>> discover() {
        return Future.succeededFuture(List.of());
    }

    @Override
    public boolean backendsOutliveGateway() {
        return false;
    }

    @Override
    public Future<Void> close() {
        return launches.close();
    }

    private record Started(Process process, int port) {}
}
