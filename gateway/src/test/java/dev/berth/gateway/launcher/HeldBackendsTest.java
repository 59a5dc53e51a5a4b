package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The handles an engine launcher holds and their removal, with the engine's part recorded. */
class HeldBackendsTest {

    private static final String ID = "0123456789abcdef";

    @TempDir
    Path dir;

    private final List<Promise<Void>> removals = new ArrayList<>();
    private final List<Duration> stopTimeouts = new ArrayList<>();
    private final KnownRoutes routes = new KnownRoutes();
    private final HeldBackends held =
            new HeldBackends("container", Logger.getLogger("test"), routes, (id, route, stopTimeout) -> {
                Promise<Void> removal = Promise.promise();
                removals.add(removal);
                stopTimeouts.add(stopTimeout);
                return removal.future();
            });
    private RouteConfig route;

    @BeforeEach
    void knowRoute() throws Exception {
        route = TestRoutes.route(dir, "r", "v2");
        routes.add(List.of(route));
    }

    @Test
    void aBackendIsRemovedOnceAtATimeWithItsRoutesStopTimeout() {
        Backend backend = held.handle(ID, "berth-r-k", "k", "r", "v2", null);
        Future<Void> first = held.remove(ID, "r");
        assertSame(first, backend.stop(), "a second removal joins the one under way");
        assertEquals(1, removals.size());
        assertEquals(Duration.ofSeconds(7), stopTimeouts.get(0));
        assertTrue(held.holds(ID), "held until the engine removed it");
        removals.get(0).complete();
        assertFalse(held.holds(ID));
        assertTrue(held.removalsDone().succeeded(), "closing waits for nothing more");
    }

    @Test
    void aBackendOfARouteNeverRunGetsTheDefaultStopTimeout() {
        held.remove(ID, "gone");
        assertEquals(RouteConfig.Timeouts.DEFAULT_STOP, stopTimeouts.get(0));
        assertEquals(Duration.ofSeconds(3), RouteConfig.Timeouts.DEFAULT_STOP, "as docs/architecture.md says");
    }

    @Test
    void aRemovalTheEngineOwesIsTriedAgainAtTheNextLookAndNotAdoptedMeanwhile() {
        held.remove(ID, "r");
        removals.get(0).fail("engine away");
        HeldBackends.Look look = held.look();
        assertEquals(2, removals.size(), "tried again as the look begins");
        assertTrue(look.leavesAlone(ID, "berth-r-k"));
        removals.get(1).complete();
        assertFalse(held.look().leavesAlone(ID, "berth-r-k"), "removed at last: owed no more");
    }

    @Test
    void aLookLeavesAloneWhatIsHeldOrCreatedBeforeItOrSince() {
        held.handle(ID, "berth-r-held", "k", "r", "v2", null);
        Promise<String> created = Promise.promise();
        held.creating("berth-r-new", created::future);
        HeldBackends.Look look = held.look();
        held.creating("berth-r-later", Promise.<String>promise()::future);
        assertTrue(look.leavesAlone(ID, "berth-r-held"));
        assertTrue(look.leavesAlone("fedcba9876543210", "berth-r-new"));
        assertTrue(look.leavesAlone("fedcba9876543210", "berth-r-later"));
        created.complete("fedcba9876543210");
        assertFalse(held.look().leavesAlone("fedcba9876543210", "berth-r-new"), "created: no longer in flight");
    }

    @Test
    void exitsAndTakeOversReachTheHandle() {
        Backend exiting = held.handle(ID, "berth-r-a", "a", "r", "v2", null);
        assertTrue(held.exited(ID, "container exited with status 0"));
        assertEquals("container exited with status 0", exiting.exited().result());
        assertFalse(held.exited("fedcba9876543210", "not ours"), "no handle held");

        Backend moving = held.handle("fedcba9876543210", "berth-r-b", "b", "r", "v2", null);
        held.movedTo("fedcba9876543210", "gw-two");
        assertEquals("gw-two", moving.movedAway().result());
        assertFalse(held.holds("fedcba9876543210"), "let go of, not stopped");
        assertTrue(removals.isEmpty());
    }

    @Test
    void onlyAnUnclaimedPoolEntryOfAnOlderVersionIsStale() {
        assertFalse(held.removedStale(ID, "berth-r-pool-1", null, "v2", route), "the route's version");
        assertFalse(held.removedStale(ID, "berth-r-k", "k", "v1", route), "claimed by a session");
        assertTrue(held.removedStale(ID, "berth-r-pool-1", null, "v1", route));
        assertEquals(1, removals.size());
    }

    @Test
    void aHandleDescribesItsBackendByKindNameAndShortId() {
        assertEquals(
                "container berth-r-k (0123456789ab)",
                held.handle(ID, "berth-r-k", "k", "r", "v2", null).description());
    }
}
