package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.edge.TlsFrontDoor;
import dev.berth.gateway.launcher.InJvmLauncher;
import dev.berth.gateway.session.SessionSnapshot;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page a user opens at an https address, as deployed behind a front door: nginx terminates
 * TLS ({@link TlsFrontDoor}) before a gateway that trusts it, and a real headless Chromium loads
 * {@code https://127.0.0.1:<port>/} through it. The feed shows; when the front door goes away and
 * comes back (every connection through it cut), the page reconnects by itself through it and gets
 * its own session back; the session cookie the browser holds is Secure; the user ends the session
 * and it is gone. The sessions are the shipped handler inside this JVM ({@link InJvmLauncher}): the
 * containers' side of the same story is BrowserFeedIT's.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@Tag("browser")
class BrowserBehindTlsProxyIT {

    @Test
    void pageThroughTlsFrontDoorGetsItsSessionBackAfterTheProxyDropsItAndHoldsASecureCookie() throws Exception {
        Vertx vertx = Vertx.vertx();
        // Chromium starts while the gateway and nginx do. Its certificate is nginx's own, self-signed.
        HeadlessChromium chromium = HeadlessChromium.start("--ignore-certificate-errors");
        InJvmLauncher launcher = new InJvmLauncher(vertx);
        TestGateway gateway = null;
        try {
            gateway = TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher))
                    .listen("trustedProxies: [\"127.0.0.1/32\"]")
                    .env("BERTH_FEED_PER_SECOND", "10")
                    .start(vertx);
            try (TlsFrontDoor nginx = TlsFrontDoor.start(gateway.port)) {
                WebDriver browser = chromium.driver();
                browser.get(nginx.origin() + "/");
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
                wait.until(page ->
                        page.findElements(By.cssSelector("#feed tr.listing")).size() >= 3);
                assertEquals("open", text(browser, "status"));
                String session = text(browser, "session");
                String hostname = text(browser, "hostname");
                assertEquals(List.of(session), keys(gateway), "the gateway holds the page's session, and only it");
                assertEquals(1, launcher.running(gateway.route, session).size(), "its own handler runs");

                // The front door goes away, every connection through it with it, and comes back.
                nginx.stop();
                wait.until(page -> text(page, "status").startsWith("reconnecting"));
                nginx.restart();
                wait.until(page -> text(page, "status").equals("open"));
                int countBack = Integer.parseInt(text(browser, "count"));
                wait.until(page -> Integer.parseInt(text(page, "count")) >= countBack + 3);
                assertEquals(session, text(browser, "session"), "the page got its own session back");
                assertEquals(hostname, text(browser, "hostname"), "from the same handler");
                assertTrue(Integer.parseInt(text(browser, "resumes")) >= 1, "resumed, nothing lost");
                assertEquals(List.of(session), keys(gateway), "no second session was made");
                Files.write(
                        TestGateway.ROOT.resolve("gateway/target/browser-behind-tls-proxy.png"),
                        ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));

                Map<String, Object> cookie = sessionCookie((ChromeDriver) browser);
                assertEquals(Boolean.TRUE, cookie.get("secure"), "the browser holds a Secure cookie: " + cookie);
                assertEquals(Boolean.TRUE, cookie.get("httpOnly"), "out of the page's scripts' reach: " + cookie);

                browser.findElement(By.id("end")).click(); // the user ends the session: it goes at once
                wait.until(page -> text(page, "status").startsWith("closed"));
                TestGateway ended = gateway;
                Await.until(() -> keys(ended).isEmpty(), 20_000, "the ended session is gone from the gateway");
                Await.until(
                        () -> launcher.running(ended.route, session).isEmpty(),
                        20_000,
                        "the ended session's handler stopped");
            }
        } finally {
            chromium.close();
            try {
                if (gateway != null) {
                    gateway.close();
                    launcher.removeAll(gateway.route);
                }
            } finally {
                vertx.close().await(30, TimeUnit.SECONDS);
            }
        }
    }

    private static String text(WebDriver page, String id) {
        return page.findElement(By.id(id)).getText();
    }

    private static List<String> keys(TestGateway gateway) {
        return gateway.verticle.sessions().await().stream()
                .map(SessionSnapshot::key)
                .toList();
    }

    /**
     * The berth_session cookie as the browser keeps it. The driver's own cookie calls see only the
     * cookies of the page's path, and this one is for the route's path (/ws): Chrome's protocol call
     * lists them all.
     */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> sessionCookie(ChromeDriver browser) {
        List<Map<String, Object>> cookies = (List<Map<String, Object>>)
                browser.executeCdpCommand("Network.getAllCookies", Map.of()).get("cookies");
        Map<String, Object> cookie = cookies.stream()
                .filter(c -> "berth_session".equals(c.get("name")))
                .findFirst()
                .orElse(null);
        assertNotNull(cookie, "the browser holds the session cookie: " + cookies);
        return cookie;
    }
}
