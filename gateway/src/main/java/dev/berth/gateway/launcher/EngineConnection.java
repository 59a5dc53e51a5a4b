package dev.berth.gateway.launcher;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.berth.gateway.config.DockerConfig;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * One Docker engine, as the launchers that use it see it: its API clients and the worker pools
 * their blocking calls run on, one for launches and one for stops, so a burst of session ends
 * never delays new sessions.
 */
final class EngineConnection {

    private static final int LAUNCH_WORKERS = 8;
    private static final int STOP_WORKERS = 16;

    private final Vertx vertx;
    private final DockerConfig config;
    final DockerClient docker;
    /** The event stream's own client: a response timeout would cut the stream after a quiet spell. */
    final DockerClient events;
    /** For the engine's swarm calls, whose fields docker-java's model lacks (capabilities, pids, published ports). */
    private final DockerHttpClient http;

    private final WorkerExecutor launchWorkers;
    private final WorkerExecutor stopWorkers;
    private final EngineHealth health;
    private final NetworkStops networkStops;

    EngineConnection(Vertx vertx, DockerConfig config) {
        this.vertx = vertx;
        this.config = config;
        DockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(config.host())
                .build();
        this.http = httpClient(clientConfig, LAUNCH_WORKERS + STOP_WORKERS + 2, config.apiTimeout());
        this.docker = DockerClientImpl.getInstance(clientConfig, http);
        this.events = DockerClientImpl.getInstance(
                clientConfig, httpClient(clientConfig, 2, Duration.ZERO)); // no response timeout
        this.launchWorkers = vertx.createSharedWorkerExecutor("berth-docker", LAUNCH_WORKERS);
        this.stopWorkers = vertx.createSharedWorkerExecutor("berth-docker-stop", STOP_WORKERS);
        this.health = new EngineHealth(vertx, clientConfig.getDockerHost(), config.stallAfter());
        this.networkStops = new NetworkStops(config.stopsPerNetwork());
    }

    /** How the engine looks now: up, down, or stalled (calls that hang). */
    EngineStatus status() {
        return health.status();
    }

    private static DockerHttpClient httpClient(DockerClientConfig config, int connections, Duration responseTimeout) {
        return new EngineHttpClient(config.getDockerHost(), connections, Duration.ofSeconds(3), responseTimeout);
    }

    String host() {
        return config.host();
    }

    /** Fails with {@link Failure#ENGINE_UNAVAILABLE} when no engine answers, so {@code launcher: auto} can fall back. */
    Future<Void> ping() {
        return blocking(() -> docker.pingCmd().exec())
                .recover(error -> Future.failedFuture(new FailureException(
                        Failure.ENGINE_UNAVAILABLE,
                        "no Docker engine answers at " + config.host() + " (" + error.getMessage() + ")",
                        error)))
                .mapEmpty();
    }

    /** Runs an engine call on the launch pool. */
    <T> Future<T> blocking(Callable<T> call) {
        return launchWorkers.executeBlocking(health.tracked(Duration.ZERO, call), false);
    }

    /**
     * Runs a stop or removal of a container on {@code network} on the stop pool, at most
     * {@code docker.stopsPerNetwork} at once per network; {@code stopTimeout} is how long the stop
     * may wait for the container before it is killed.
     */
    <T> Future<T> stopping(String network, Duration stopTimeout, Callable<T> call) {
        return networkStops.run(network, () -> stopWorkers.executeBlocking(health.tracked(stopTimeout, call), false));
    }

    /**
     * Blocking: stops a container (SIGTERM, then SIGKILL after {@code stopTimeout}) and removes it;
     * one already stopped or gone is fine.
     */
    void stopAndRemove(String containerId, Duration stopTimeout) {
        stop(containerId, stopTimeout);
        forceRemove(containerId);
    }

    /** Blocking: stops a container (SIGTERM, then SIGKILL after {@code stopTimeout}); one already stopped or gone is fine. */
    void stop(String containerId, Duration stopTimeout) {
        try {
            docker.stopContainerCmd(containerId)
                    .withTimeout((int) Math.ceil(stopTimeout.toMillis() / 1000.0))
                    .exec();
        } catch (NotFoundException | NotModifiedException alreadyStopped) {
            // nothing to stop
        }
    }

    /** Blocking: removes a container, running or not; one already gone, or being removed, is fine. */
    void forceRemove(String containerId) {
        try {
            docker.removeContainerCmd(containerId)
                    .withForce(true)
                    .withRemoveVolumes(true)
                    .exec();
        } catch (NotFoundException | ConflictException alreadyGoing) {
            // already removed, or the engine is removing it: either way it is gone
        }
    }

    /** Blocking: fails, saying how to build it, when {@code route}'s image or its canary's is not on the engine. */
    void requireImages(RouteConfig route) {
        requireImage(route);
        if (route.canary() != null) {
            requireImage(route.asCanary());
        }
    }

    private void requireImage(RouteConfig route) {
        try {
            docker.inspectImageCmd(route.image()).exec();
        } catch (NotFoundException e) {
            throw new FailureException(
                    Failure.START_FAILED,
                    "image " + route.image() + " ("
                            + route.key("docker.image") + ") is not on this engine and no registry can be pulled from; "
                            + "build it with handler-image/build-image.sh");
        }
    }

    /**
     * Blocking: one call of the engine's API, e.g. {@code ("POST", "/services/create", spec)}; the
     * decoded JSON answer (a JsonObject, a JsonArray or null). An answer of 400 and up throws
     * {@link EngineRefusal} with the engine's message.
     */
    Object api(String method, String path, JsonObject body) {
        DockerHttpClient.Request.Builder request = DockerHttpClient.Request.builder()
                .method(DockerHttpClient.Request.Method.valueOf(method))
                .path(path)
                .putHeader("Content-Type", "application/json");
        if (body != null) {
            request.bodyBytes(body.encode().getBytes(StandardCharsets.UTF_8));
        }
        try (DockerHttpClient.Response response = http.execute(request.build());
                InputStream in = response.getBody()) {
            byte[] answer = in == null ? new byte[0] : in.readAllBytes();
            if (response.getStatusCode() >= 400) {
                String message =
                        answer.length == 0 ? "" : new JsonObject(Buffer.buffer(answer)).getString("message", "");
                throw new EngineRefusal(response.getStatusCode(), method + " " + path + ": " + message);
            }
            return answer.length == 0 ? null : Json.decodeValue(Buffer.buffer(answer));
        } catch (IOException e) {
            throw new UncheckedIOException("engine call " + method + " " + path + " failed", e);
        }
    }

    /** The engine answered a call with an error status. */
    static final class EngineRefusal extends RuntimeException {
        final int status;

        EngineRefusal(int status, String message) {
            super(message);
            this.status = status;
        }

        /** Swarm's answer to an update made from an outdated version of the object: someone else changed it first. */
        boolean outOfSequence() {
            return getMessage().contains("update out of sequence");
        }
    }

    Future<Void> close() {
        health.close();
        return vertx.executeBlocking(
                        () -> {
                            events.close();
                            docker.close();
                            return null;
                        },
                        false)
                .<Void>mapEmpty()
                .eventually(launchWorkers::close)
                .eventually(stopWorkers::close)
                .recover(error -> Future.succeededFuture());
    }
}
