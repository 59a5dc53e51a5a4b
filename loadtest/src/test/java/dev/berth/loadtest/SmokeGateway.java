package dev.berth.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway {@link SmokeSimulation} runs against: the built jar on a copy of
 * config/loadtest.yaml with a route of its own ({@code t-smoke-<random>}, so containers it leaves
 * are recognised and swept like the test suite's) and a token secret of its own, on a free port.
 * Stopping it (SIGTERM; the config ends every session) checks that no container of its route is
 * left. Paths come from system properties the loadtest pom sets: {@code berth.gatewayJar},
 * {@code berth.loadtestConfig}, {@code berth.smokeDir}.
 */
final class SmokeGateway {

    private static final Pattern LISTENING = Pattern.compile("Berth gateway listening on (http://[0-9.]+:[0-9]+)/");
    private static final long START_TIMEOUT_MS = 60_000;

    private final Process process;
    private final String route;
    private final Path log;
    private final String baseUrl;
    private final Thread killer;

    private SmokeGateway(Process process, String route, Path log, String baseUrl, Thread killer) {
        this.process = process;
        this.route = route;
        this.log = log;
        this.baseUrl = baseUrl;
        this.killer = killer;
    }

    static SmokeGateway start() {
        try {
            Path dir = Files.createDirectories(Path.of(required("berth.smokeDir")));
            String route = "t-smoke-"
                    + HexFormat.of().formatHex(new byte[] {
                        (byte) new Random().nextInt(), (byte) new Random().nextInt(), (byte) new Random().nextInt()
                    });
            Path config = dir.resolve(route + ".yaml");
            Files.writeString(
                    config,
                    smokeConfig(
                            Files.readString(Path.of(required("berth.loadtestConfig"))),
                            route,
                            dir.resolve(route + "-token.key")));
            Path log = dir.resolve(route + "-gateway.log");
            Process process = new ProcessBuilder(
                            "java",
                            "-Xmx256m",
                            "-XX:TieredStopAtLevel=1",
                            "-jar",
                            required("berth.gatewayJar"),
                            "--config",
                            config.toString(),
                            "--port",
                            "0")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            Thread killer = new Thread(process::destroyForcibly, "smoke-gateway-killer");
            Runtime.getRuntime().addShutdownHook(killer); // a Gatling JVM that dies takes the gateway with it
            SmokeGateway gateway = new SmokeGateway(process, route, log, awaitListening(process, log), killer);
            gateway.awaitHealthy();
            System.out.println(
                    "SmokeSimulation: gateway up at " + gateway.baseUrl + " (route " + route + ", log " + log + ")");
            return gateway;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String baseUrl() {
        return baseUrl;
    }

    /** SIGTERM, then checks that the gateway exited and that no container of its route is left (removing any). */
    void stop() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("the smoke gateway did not exit within 30 s of SIGTERM; see " + log);
            }
            Runtime.getRuntime().removeShutdownHook(killer);
            List<String> left = docker("ps", "-aq", "--filter", "label=berth.route=" + route);
            if (!left.isEmpty()) {
                docker(concat(List.of("rm", "-f"), left).toArray(String[]::new));
                throw new IllegalStateException("the smoke gateway left " + left.size() + " container(s) of route "
                        + route + " behind (removed now); see " + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** config/loadtest.yaml with this run's route name and token secret; fails if the lines it replaces moved. */
    private static String smokeConfig(String loadtest, String route, Path tokenSecret) {
        String named = replaceValue(loadtest, "(?m)^(  - name: )loadtest\\b", route);
        return replaceValue(named, "(?m)^(  tokenSecretFile: ).*$", "\"" + tokenSecret + "\"");
    }

    /** {@code text} with the first match of {@code regex} replaced by its group 1 followed by {@code value}. */
    private static String replaceValue(String text, String regex, String value) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        if (!matcher.find()) {
            throw new IllegalStateException(
                    "config/loadtest.yaml has no line matching " + regex + ": update SmokeGateway");
        }
        return text.substring(0, matcher.start()) + matcher.group(1) + value + text.substring(matcher.end());
    }

    private static String awaitListening(Process process, Path log) throws IOException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            Matcher listening = LISTENING.matcher(Files.readString(log, StandardCharsets.UTF_8));
            if (listening.find()) {
                return listening.group(1);
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "the smoke gateway exited with " + process.exitValue() + "; see " + log);
            }
            sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException(
                "the smoke gateway did not listen within " + START_TIMEOUT_MS + " ms; see " + log);
    }

    private void awaitHealthy() {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (client.send(
                                        HttpRequest.newBuilder(URI.create(baseUrl + "/health"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (IOException e) {
                // not answering yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            sleep(100);
        }
        stop();
        throw new IllegalStateException(
                "the smoke gateway's /health did not answer 200 within " + START_TIMEOUT_MS + " ms");
    }

    private static List<String> docker(String... args) throws InterruptedException {
        try {
            Process docker = new ProcessBuilder(concat(List.of("docker"), List.of(args)))
                    .redirectErrorStream(true)
                    .start();
            if (!docker.waitFor(30, TimeUnit.SECONDS)) {
                docker.destroyForcibly();
                throw new IllegalStateException("docker " + String.join(" ", args) + " did not answer within 30 s");
            }
            String out = new String(docker.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (docker.exitValue() != 0) {
                throw new IllegalStateException("docker " + String.join(" ", args) + " failed: " + out);
            }
            return out.lines().filter(line -> !line.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> concat(List<String> first, List<String> second) {
        return java.util.stream.Stream.concat(first.stream(), second.stream()).toList();
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(
                    "-D" + property + " is not set: the smoke runs from the loadtest pom (mvn verify)");
        }
        return value;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
