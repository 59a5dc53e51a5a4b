package dev.berth.gateway.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.Await;
import dev.berth.gateway.FakeLauncherGatewayTest;
import dev.berth.gateway.FrameClient;
import dev.berth.gateway.ResumingClient;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.failure.Failure;
import io.vertx.core.http.WebSocketFrame;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the operator's kit added to /metrics, on a real gateway: the launch outcomes a launch can
 * have (and no other), the JVM and process series with the build's versions, config reload
 * outcomes with the time of the last good load, and resumes that replayed messages.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayMetricsTest extends FakeLauncherGatewayTest {

    private static final Pattern FAILURE_CONSTANT = Pattern.compile("\\bFailure\\.([A-Z_]+)\\b");

    @Test
    void aRoutesLaunchSeriesAreSuccessAndTheFailuresALaunchCanEndWith() throws Exception {
        gateway = gatewayOn().start(vertx);
        Set<String> outcomes = new TreeSet<>();
        Matcher launches = Pattern.compile(
                        "(?m)^berth_launches_total\\{outcome=\"([a-z_]+)\",route=\"" + gateway.route + "\"}")
                .matcher(gateway.get("/metrics"));
        while (launches.find()) {
            outcomes.add(launches.group(1));
        }
        Set<String> expected = new TreeSet<>(List.of("success"));
        for (Failure failure : Failure.values()) {
            if (failure.endsLaunch()) {
                expected.add(failure.tag());
            }
        }
        assertEquals(expected, outcomes);
        assertTrue(
                outcomes.containsAll(List.of(
                        "start_failed",
                        "start_timeout",
                        "ready_timeout",
                        "exited_early",
                        "unreachable",
                        "engine_unavailable",
                        "launch_queue_full",
                        "abandoned")),
                "" + outcomes);
    }

    @Test
    void aRoutesRefusalAndEndSeriesAreTheReasonsEachCanCountAndAnyOtherStillCounts() {
        GatewayMetrics metrics = new GatewayMetrics(List.of(), () -> 0);
        metrics.routeAdded("listings");
        Set<String> refusals = reasons(metrics.scrape(), "berth_refusals_total");
        Set<String> ends = reasons(metrics.scrape(), "berth_sessions_ended_total");
        assertTrue(
                refusals.containsAll(List.of("capacity", "invalid_token", "draining", "start_failed", "moved_away")),
                "" + refusals);
        assertTrue(
                ends.containsAll(List.of("client_ended", "grace_expired", "start_failed", "abandoned", "moved_away")),
                "" + ends);
        assertFalse(refusals.contains("client_ended"), "a session's end is no refusal: " + refusals);
        assertFalse(
                ends.contains("capacity") || ends.contains("forbidden_origin"), "refused before any session: " + ends);
        assertTrue(
                refusals.size() + ends.size() < 2 * Failure.values().length * 2 / 3,
                "a third fewer series than every reason twice: " + refusals.size() + " + " + ends.size());

        metrics.ended("listings", Failure.CAPACITY); // not expected, and still counted
        assertTrue(
                metrics.scrape().contains("berth_sessions_ended_total{reason=\"capacity\",route=\"listings\"} 1.0"),
                metrics.scrape());
    }

    private static Set<String> reasons(String scrape, String family) {
        Set<String> reasons = new TreeSet<>();
        Matcher series = Pattern.compile("(?m)^" + family + "\\{reason=\"([a-z_]+)\",route=\"listings\"}")
                .matcher(scrape);
        while (series.find()) {
            reasons.add(series.group(1));
        }
        return reasons;
    }

    /** A failure the launchers (or the launch gate before them) can raise is one a launch can end with. */
    @Test
    void everyFailureTheLauncherPackageNamesEndsALaunch() throws IOException {
        Path launcher = TestGateway.ROOT.resolve("gateway/src/main/java/dev/berth/gateway/launcher");
        Set<String> named = new TreeSet<>();
        try (Stream<Path> files = Files.list(launcher)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher constant = FAILURE_CONSTANT.matcher(Files.readString(file));
                while (constant.find()) {
                    named.add(constant.group(1));
                }
            }
        }
        assertTrue(named.size() >= 6, "found " + named);
        for (String name : named) {
            assertTrue(
                    Failure.valueOf(name).endsLaunch(),
                    "launcher/ raises Failure." + name + ": add it to Failure.endsLaunch(), so that its "
                            + "launch outcome is registered up front");
        }
    }

    @Test
    void jvmAndProcessSeriesAndTheBuildInfoArePublished() throws Exception {
        gateway = gatewayOn().start(vertx);
        String metrics = gateway.get("/metrics");
        for (String series : List.of(
                "jvm_memory_used_bytes",
                "jvm_gc_memory_allocated_bytes_total",
                "jvm_threads_live_threads",
                "jvm_classes_loaded_classes",
                "process_cpu_usage",
                "system_cpu_count",
                "process_uptime_seconds",
                "process_files_open_files")) {
            assertTrue(
                    Pattern.compile("(?m)^" + series + "[{ ]").matcher(metrics).find(), series + " is on /metrics");
        }
        Matcher build = Pattern.compile(
                        "(?m)^berth_build_info\\{java=\"([^\"]+)\",version=\"([^\"]+)\",vertx=\"([^\"]+)\"} 1(\\.0)?$")
                .matcher(metrics);
        assertTrue(build.find(), "berth_build_info{java,version,vertx} 1 in:\n" + metrics);
        assertEquals(Runtime.version().toString(), build.group(1));
        assertEquals(RuntimeSeries.berthVersion(), build.group(2), "from the jar; unknown when run from classes");
        assertTrue(build.group(3).startsWith("5."), "Vert.x " + build.group(3));
    }

    @Test
    void reloadsAreCountedByOutcomeAndOnlyGoodLoadsMoveTheLastSuccessTime() throws Exception {
        double started = System.currentTimeMillis() / 1000.0;
        gateway = gatewayOn().start(vertx);
        double atStart = gateway.sample("berth_config_last_reload_success_timestamp_seconds", "");
        assertTrue(
                atStart >= started - 1 && atStart <= System.currentTimeMillis() / 1000.0,
                "the start's load counts as the last good one: " + atStart);
        for (String outcome : List.of("applied", "unchanged", "rejected")) {
            assertEquals(0, gateway.sample("berth_config_reloads_total", "outcome=\"" + outcome + "\""), outcome);
        }

        Thread.sleep(20); // so that a later load has a later time
        assertEquals(200, gateway.admin("POST", "/config/reload").statusCode());
        assertEquals(1, gateway.sample("berth_config_reloads_total", "outcome=\"unchanged\""));
        double unchanged = gateway.sample("berth_config_last_reload_success_timestamp_seconds", "");
        assertTrue(unchanged > atStart, "an unchanged file was read and found good");

        // The file watch (or a reload) applies a change of the routes.
        Thread.sleep(20);
        gateway.editConfig(text -> text.replace("maxSessions: 20", "maxSessions: 19"));
        Await.until(
                () -> gateway.sample("berth_config_reloads_total", "outcome=\"applied\"") == 1,
                10_000,
                "the changed file was applied");
        double applied = gateway.sample("berth_config_last_reload_success_timestamp_seconds", "");
        assertTrue(applied > unchanged, "applied: a good load");

        gateway.editConfig(text -> "bogus: 1\n" + text);
        Await.until(
                () -> gateway.sample("berth_config_reloads_total", "outcome=\"rejected\"") == 1,
                10_000,
                "the broken file was rejected");
        assertEquals(
                applied,
                gateway.sample("berth_config_last_reload_success_timestamp_seconds", ""),
                "a rejected file is no good load");
    }

    @Test
    void aResumeThatGetsMessagesAgainIsCounted() throws Exception {
        gateway = gatewayOn().start(vertx);
        String token;
        String stream;
        try (FrameClient first = FrameClient.connect(vertx, gateway.port, null, ResumingClient.SUBPROTOCOL)) {
            first.socket().writeTextMessage("resume 0 -");
            stream = first.nextDataFrame().textData().split(" ")[2];
            first.socket().writeTextMessage("1 ping");
            awaitMessage(first, "2 ping"); // 1 is the backend's hello
            token = first.sessionToken();
            first.leave(); // nothing acknowledged: both are held for the next connection
        }
        assertEquals(0, gateway.sample("berth_resume_replays_total", ""), "a first resume replays nothing");

        try (FrameClient again = FrameClient.connect(vertx, gateway.port, token, ResumingClient.SUBPROTOCOL)) {
            again.socket().writeTextMessage("resume 0 " + stream); // it says it got nothing
            awaitMessage(again, "2 ping");
            assertEquals(1, gateway.sample("berth_resume_replays_total", ""));
            assertEquals(2, gateway.sample("berth_resume_replayed_messages_total", ""), "the hello and the echo");
        }
    }

    private static void awaitMessage(FrameClient client, String text) throws InterruptedException {
        for (int frames = 0; frames < 20; frames++) {
            WebSocketFrame frame = client.nextDataFrame();
            if (frame.isText() && frame.textData().equals(text)) {
                return;
            }
        }
        throw new AssertionError("no " + text);
    }
}
