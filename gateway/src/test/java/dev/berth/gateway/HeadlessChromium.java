package dev.berth.gateway;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's Chromium, headless, driven through Debian's chromedriver (named, so Selenium downloads
 * nothing), with a profile of its own in a temp folder. It starts in the background, since it takes
 * seconds, mostly waiting, that a test spends starting its gateway meanwhile; {@link #close} quits
 * it and removes the profile, also when the test failed while it was still on its way.
 */
public final class HeadlessChromium implements AutoCloseable {

    private final Path profile;
    private final CompletableFuture<WebDriver> starting;
    private boolean quit;

    private HeadlessChromium(Path profile, List<String> extraArguments) {
        this.profile = profile;
        this.starting = CompletableFuture.supplyAsync(() -> launch(profile, extraArguments));
    }

    /** Starts it in the background with these command line switches besides the usual ones. */
    public static HeadlessChromium start(String... extraArguments) throws IOException {
        return new HeadlessChromium(Files.createTempDirectory("berth-chromium"), List.of(extraArguments));
    }

    /** The browser, once started (waits up to 60 s). */
    public WebDriver driver() throws Exception {
        return starting.get(60, TimeUnit.SECONDS);
    }

    /** Quits the browser now; the profile goes at {@link #close}. */
    public void quit() throws Exception {
        WebDriver started = starting.handle((driver, failed) -> driver).get(60, TimeUnit.SECONDS);
        if (started != null && !quit) {
            quit = true;
            started.quit();
        }
    }

    @Override
    public void close() throws Exception {
        try {
            quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private static WebDriver launch(Path profile, List<String> extraArguments) {
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort()
                .build();
        List<String> arguments = new ArrayList<>(List.of(
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1100,900",
                "--user-data-dir=" + profile));
        arguments.addAll(extraArguments);
        return new ChromeDriver(
                service, new ChromeOptions().setBinary("/usr/bin/chromium").addArguments(arguments));
    }
}
