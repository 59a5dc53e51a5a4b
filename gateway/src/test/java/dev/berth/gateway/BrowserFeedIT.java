package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A newcomer's first run, automated: the README's run command brings the gateway up on the default
 * config, and a real headless Chromium at / shows the live feed coming from the session's own
 * container; the gateway restarts, the page reconnects by itself and gets the same container back;
 * the user ends the session and its container is removed.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
@Tag("engine")
@Tag("browser")
class BrowserFeedIT {

    private static final String DEFAULT_ROUTE = "listings";

    @Test
    void pageShowsTheFeedFromItsOwnContainerAndGetsItBackAfterAGatewayRestart() throws Exception {
        Path root = TestGateway.ROOT;
        int port = freePort(); // fixed, so the page can come back to the same URL after the restart
        try (DockerTestBackends docker = new DockerTestBackends()) {
            Set<String> before = containerIds(docker);
            GatewayProcess gateway = null;
            // Chromium starts while the gateway does: each takes seconds, mostly waiting.
            HeadlessChromium chromium = HeadlessChromium.start();
            try {
                // The README's run command, on the default config.
                gateway = runCommand(root, port, root.resolve("gateway/target/browser-it-gateway-1.log"));
                String url = "http://127.0.0.1:" + port + "/";
                WebDriver browser = chromium.driver();
                browser.get(url);
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
                wait.until(page ->
                        page.findElements(By.cssSelector("#feed tr.listing")).size() >= 3);

                assertEquals("open", browser.findElement(By.id("status")).getText());
                assertTrue(
                        browser.findElement(By.id("start")).getText().matches("ready in \\d+ ms"),
                        "the page was told its session's start: "
                                + browser.findElement(By.id("start")).getText());
                String session = browser.findElement(By.id("session")).getText();
                String hostname = browser.findElement(By.id("hostname")).getText();
                List<Container> own = docker.containers(DEFAULT_ROUTE, session, false);
                assertEquals(1, own.size(), "one running container for the page's session " + session);
                InspectContainerResponse container =
                        docker.docker.inspectContainerCmd(own.get(0).getId()).exec();
                assertEquals(
                        hostname,
                        container.getConfig().getHostName(),
                        "the feed comes from the session's own container");
                String address = container
                        .getNetworkSettings()
                        .getNetworks()
                        .get("berth-sessions")
                        .getIpAddress();
                assertFalse(browser.getPageSource().contains(address), "the page never shows the backend address");
                Files.write(
                        root.resolve("gateway/target/browser-feed.png"),
                        ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

                // Ctrl-C (SIGINT), as the README says: no drain, and the session is kept. (A service
                // manager's SIGTERM drains first: SessionSurvivalTest.)
                assertEquals(
                        0,
                        new ProcessBuilder("kill", "-INT", Long.toString(gateway.process.pid()))
                                .start()
                                .waitFor());
                assertTrue(gateway.process.waitFor(60, TimeUnit.SECONDS), "the gateway exits on Ctrl-C");
                assertEquals(0, gateway.process.exitValue());
                wait.until(page -> page.findElement(By.id("status")).getText().startsWith("reconnecting"));
                assertEquals(
                        1,
                        docker.containers(DEFAULT_ROUTE, session, false).size(),
                        "the container outlives the gateway");

                gateway = runCommand(root, port, root.resolve("gateway/target/browser-it-gateway-2.log"));
                wait.until(page -> page.findElement(By.id("status")).getText().equals("open"));
                int countBack =
                        Integer.parseInt(browser.findElement(By.id("count")).getText());
                wait.until(page ->
                        Integer.parseInt(page.findElement(By.id("count")).getText()) >= countBack + 3);
                assertEquals(
                        session, browser.findElement(By.id("session")).getText(), "the page got its own session back");
                assertEquals(hostname, browser.findElement(By.id("hostname")).getText(), "from the same container");
                Files.write(
                        root.resolve("gateway/target/browser-feed-after-restart.png"),
                        ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

                browser.findElement(By.id("end")).click(); // the user ends the session: its container goes at once
                wait.until(page -> page.findElement(By.id("status")).getText().startsWith("closed"));
                awaitGone(docker, session);
                chromium.quit();
                gateway.terminate();
                assertTrue(gateway.process.waitFor(60, TimeUnit.SECONDS), "the gateway exits on SIGTERM");
            } finally {
                chromium.close(); // also when the gateway did not start and the browser was still on its way
                if (gateway != null) {
                    gateway.kill();
                    gateway.process.waitFor(30, TimeUnit.SECONDS);
                }
                for (String id : containerIds(docker)) {
                    if (!before.contains(id)) {
                        docker.docker.removeContainerCmd(id).withForce(true).exec();
                    }
                }
            }
        }
    }

    private static GatewayProcess runCommand(Path root, int port, Path log) throws Exception {
        return GatewayProcess.run(
                List.of("./run.sh", "--port", Integer.toString(port)), root, log, Duration.ofSeconds(180));
    }

    private static void awaitGone(DockerTestBackends docker, String session) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!docker.containers(DEFAULT_ROUTE, session, true).isEmpty()) {
            assertTrue(System.currentTimeMillis() < deadline, "the ended session's container was removed");
            Thread.sleep(100);
        }
    }

    private static int freePort() throws Exception {
        try (java.net.ServerSocket socket =
                new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static Set<String> containerIds(DockerTestBackends docker) {
        return docker.containers(DEFAULT_ROUTE, null, true).stream()
                .map(Container::getId)
                .collect(Collectors.toSet());
    }
}
