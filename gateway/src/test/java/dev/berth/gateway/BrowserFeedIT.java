package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A newcomer's first run, automated: the README's run command brings the gateway up on the default
 * config, and a real headless Chromium at / shows the live feed coming from the session's own
 * container. Stopping the gateway removes that container.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BrowserFeedIT {

  private static final Pattern LISTENING = Pattern.compile("listening on (http://[0-9.]+:\\d+/)");
  private static final String DEFAULT_ROUTE = "listings";

  @Test
  void runCommandServesAPageThatShowsTheFeedFromTheSessionsOwnContainer() throws Exception {
    Path root = TestGateway.ROOT;
    Path log = root.resolve("gateway/target/browser-it-gateway.log");
    try (DockerTestBackends docker = new DockerTestBackends()) {
      Set<String> before = containerIds(docker);
      // The README's run command, on the default config; --port 0 only so the test never clashes.
      Process gateway = new ProcessBuilder("./run.sh", "--port", "0")
          .directory(root.toFile())
          .redirectErrorStream(true)
          .start();
      Path profile = Files.createTempDirectory("berth-chromium");
      WebDriver browser = null;
      try {
        String url = awaitListening(gateway, log);
        browser = headlessChromium(profile);
        browser.get(url);
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        wait.until(page -> page.findElements(By.cssSelector("#feed tr.listing")).size() >= 3);

        assertEquals("open", browser.findElement(By.id("status")).getText());
        String session = browser.findElement(By.id("session")).getText();
        String hostname = browser.findElement(By.id("hostname")).getText();
        List<Container> own = docker.containers(DEFAULT_ROUTE, session, false);
        assertEquals(1, own.size(), "one running container for the page's session " + session);
        InspectContainerResponse container = docker.docker.inspectContainerCmd(own.get(0).getId()).exec();
        assertEquals(hostname, container.getConfig().getHostName(), "the feed comes from the session's own container");
        String address = container.getNetworkSettings().getNetworks().get("berth-sessions").getIpAddress();
        assertFalse(browser.getPageSource().contains(address), "the page never shows the backend address");

        Files.write(root.resolve("gateway/target/browser-feed.png"),
            ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        browser.quit();
        browser = null;

        gateway.destroy(); // SIGTERM, as an operator's Ctrl-C or a service manager would
        assertTrue(gateway.waitFor(60, TimeUnit.SECONDS), "the gateway exits on SIGTERM");
        assertTrue(docker.containers(DEFAULT_ROUTE, session, true).isEmpty(),
            "stopping the gateway removed the session's container");
      } finally {
        if (browser != null) {
          browser.quit();
        }
        gateway.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        try (var files = Files.walk(profile)) {
          files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
        for (String id : containerIds(docker)) {
          if (!before.contains(id)) {
            docker.docker.removeContainerCmd(id).withForce(true).exec();
          }
        }
      }
    }
  }

  private static Set<String> containerIds(DockerTestBackends docker) {
    return docker.containers(DEFAULT_ROUTE, null, true).stream().map(Container::getId).collect(Collectors.toSet());
  }

  /** Copies the gateway's output to a log file and returns the URL from its listening line. */
  private static String awaitListening(Process gateway, Path log) throws Exception {
    CompletableFuture<String> url = new CompletableFuture<>();
    Thread copier = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8));
           var file = Files.newBufferedWriter(log)) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          file.write(line);
          file.newLine();
          file.flush();
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            url.complete(m.group(1));
          }
        }
      } catch (Exception e) {
        url.completeExceptionally(e);
      }
      url.completeExceptionally(new AssertionError("the gateway exited before listening; see " + log));
    }, "gateway-output");
    copier.setDaemon(true);
    copier.start();
    return url.get(180, TimeUnit.SECONDS);
  }

  private static WebDriver headlessChromium(Path profile) {
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File("/usr/bin/chromedriver"))
        .usingAnyFreePort()
        .build();
    ChromeOptions options = new ChromeOptions()
        .setBinary("/usr/bin/chromium")
        .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1100,900",
            "--user-data-dir=" + profile);
    return new ChromeDriver(service, options);
  }
}
