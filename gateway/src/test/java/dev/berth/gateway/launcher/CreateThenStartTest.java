package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An engine launch's create-then-start, and what each of its failures leaves behind. */
class CreateThenStartTest {

    private static final String ID = "0123456789abcdef";

    @TempDir
    Path dir;

    private final List<String> removed = new ArrayList<>();
    private final KnownRoutes routes = new KnownRoutes();
    private final HeldBackends held =
            new HeldBackends("service", Logger.getLogger("test"), routes, (id, route, stopTimeout) -> {
                removed.add(id);
                return Future.succeededFuture();
            });

    private LaunchRequest request() throws Exception {
        RouteConfig route = TestRoutes.route(dir, "r", "v1");
        routes.add(List.of(route));
        return new LaunchRequest("k", route);
    }

    @Test
    void aStartedBackendIsHeldWithItsAddress() throws Exception {
        Backend backend = CreateThenStart.run(
                        held,
                        request(),
                        "berth-r-k",
                        "cannot create",
                        () -> Future.succeededFuture(ID),
                        id -> Future.succeededFuture(SocketAddress.inetSocketAddress(8080, "10.0.0.2")))
                .result();
        assertEquals("k", backend.sessionKey());
        assertEquals(8080, backend.address().port());
        assertTrue(held.holds(ID));
    }

    @Test
    void anEngineAwayWhileCreatingIsEngineUnavailable() throws Exception {
        Throwable error = CreateThenStart.run(
                        held,
                        request(),
                        "berth-r-k",
                        "cannot create a service from x",
                        () -> Future.failedFuture(new UncheckedIOException(new IOException("refused"))),
                        id -> Future.failedFuture("never"))
                .cause();
        assertEquals(Failure.ENGINE_UNAVAILABLE, ((FailureException) error).failure());
        assertTrue(error.getMessage().startsWith("cannot create a service from x"), error.getMessage());
        assertTrue(removed.isEmpty(), "nothing was made");
    }

    @Test
    void aBackendCreatedButNotStartedIsRemovedBeforeTheLaunchFails() throws Exception {
        Throwable error = CreateThenStart.run(
                        held,
                        request(),
                        "berth-r-k",
                        "cannot create",
                        () -> Future.succeededFuture(ID),
                        id -> Future.failedFuture(new IllegalStateException("no address")))
                .cause();
        assertEquals(List.of(ID), removed);
        assertEquals(Failure.START_FAILED, ((FailureException) error).failure());
        assertTrue(error.getMessage().startsWith("cannot start service berth-r-k (0123456789ab)"), error.getMessage());
    }
}
