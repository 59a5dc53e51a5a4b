package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.RouteConfig;
import dev.berth.gateway.failure.Failure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The canary's brake judged on its own: what engages it, what does not, and what a reload keeps. */
class CanariesTest {

    @TempDir
    Path dir;

    private RouteConfig route(String canary) throws Exception {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, """
        launcher: process
        routes:
          - name: r
            path: /ws
            version: v1
            process: {command: [java, -jar, handler.jar]}
            canary: %s
        """.formatted(canary));
        return ConfigLoader.load(file).routes().get(0);
    }

    private static void sessions(Canaries canaries, RouteConfig version, int count, Duration firstFrame) {
        for (int i = 0; i < count; i++) {
            canaries.started(version);
            canaries.firstFrame(version, firstFrame);
        }
    }

    private static String brake(Canaries canaries) {
        return canaries.status().get(0).brakedBecause();
    }

    @Test
    void aCanaryClearlySlowerToItsFirstFrameIsBrakedAndGetsNoNewSession() throws Exception {
        RouteConfig route = route("{version: v2, weight: 100, brake: {minSessions: 5, firstFrameRatio: 2.0}}");
        Canaries canaries = new Canaries();
        canaries.configure(List.of(route));
        RouteConfig canary = canaries.choose(route);
        assertEquals("v2", canary.version(), "weight 100: every new session tries the canary");

        sessions(canaries, route, 10, Duration.ofMillis(10));
        sessions(canaries, canary, 4, Duration.ofMillis(50));
        assertNull(brake(canaries), "not judged before brake.minSessions");
        sessions(canaries, canary, 1, Duration.ofMillis(50));
        assertTrue(brake(canaries).contains("median time to first frame 50.0ms, against 10.0ms"), brake(canaries));
        assertSame(route, canaries.choose(route), "braked: new sessions start on the route's version");
    }

    @Test
    void failuresThatDoNotBlameTheVersionAndSmallDifferencesLeaveTheCanaryAlone() throws Exception {
        RouteConfig route =
                route("{version: v2, weight: 50, brake: {minSessions: 4, failureMargin: 0.25, firstFrameRatio: 3.0}}");
        Canaries canaries = new Canaries();
        canaries.configure(List.of(route));
        RouteConfig canary = route.asCanary();
        sessions(canaries, route, 8, Duration.ofMillis(10));
        sessions(canaries, canary, 8, Duration.ofMillis(25)); // 2.5x: within the ratio
        canaries.failed(canary, Failure.CLIENT_ENDED);
        canaries.failed(canary, Failure.GRACE_EXPIRED);
        canaries.failed(canary, Failure.START_FAILED); // 1 of 8 blames it: 12.5%, within the margin
        assertNull(brake(canaries));
        canaries.failed(canary, Failure.BACKEND_EXITED);
        canaries.failed(canary, Failure.BACKEND_LOST); // 3 of 8: 37.5% against 0%
        assertNotNull(brake(canaries));
        assertTrue(brake(canaries).contains("38% of its 8 sessions failed"), brake(canaries));
    }

    @Test
    void aReloadKeepsATrialUnlessItsVersionsChange() throws Exception {
        RouteConfig route = route("{version: v2, weight: 100, brake: {minSessions: 1}}");
        Canaries canaries = new Canaries();
        canaries.configure(List.of(route));
        canaries.started(route.asCanary());
        canaries.failed(route.asCanary(), Failure.START_FAILED);
        assertNotNull(brake(canaries));

        canaries.configure(List.of(route("{version: v2, weight: 10, brake: {minSessions: 1}}")));
        assertNotNull(brake(canaries), "another weight: the same trial, still braked");
        canaries.configure(List.of(route("{version: v3, weight: 10, brake: {minSessions: 1}}")));
        assertNull(brake(canaries), "another canary version: a fresh trial");
        canaries.configure(List.of(route("null")));
        assertTrue(canaries.status().isEmpty(), "no canary, no trial");
    }
}
