package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The labels and names a restarted gateway, or another one, finds a backend again by. */
class EngineLabelsTest {

    private static final String KEY = "0123456789abcdef01234567";

    @TempDir
    Path dir;

    @Test
    void aBackendsNameSaysItsHolderUnlessThatIsTheDefaultGateway() {
        assertEquals("berth-r-" + KEY, EngineLabels.nameFor("r", KEY, EngineLabels.DEFAULT_GATEWAY));
        assertEquals("berth-r-" + KEY + ".gw-two", EngineLabels.nameFor("r", KEY, "gw-two"));
        assertEquals("gw-two", EngineLabels.ownerOf("berth-r-" + KEY + ".gw-two"));
        assertEquals(EngineLabels.DEFAULT_GATEWAY, EngineLabels.ownerOf("berth-r-" + KEY));
    }

    @Test
    void aClaimedPoolEntrysNameCarriesItsSession() {
        assertEquals(KEY, EngineLabels.sessionInName("berth-r-" + KEY + ".gw-two"));
        assertNull(EngineLabels.sessionInName("berth-r-pool-0a1b2c3d4e5f"));
    }

    @Test
    void aPoolEntryIsLabelledAsOneAndASessionWithItsKey() throws Exception {
        LaunchRequest pooled = LaunchRequest.forPool(TestRoutes.route(dir, "r", "v1"));
        assertEquals(
                Map.of("berth.managed", "true", "berth.pool", "true", "berth.route", "r", "berth.version", "v1"),
                EngineLabels.of(pooled));
        LaunchRequest session = new LaunchRequest(KEY, TestRoutes.route(dir, "r", "v1"));
        assertEquals(
                Map.of("berth.managed", "true", "berth.session", KEY, "berth.route", "r", "berth.version", "v1"),
                EngineLabels.of(session));
    }
}
