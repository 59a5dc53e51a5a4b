package dev.berth.gateway.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The echo backends every path of the proxy benchmark reaches: handler containers with the feed
 * off (a pure echo), on a bridge network of their own that the host can dial. Labelled
 * {@code berth.bench=proxy} and removed with the network by {@link #close}, which is safe to call
 * twice. Driven through the docker CLI: setup cost is not what is measured.
 */
final class EchoContainers implements AutoCloseable {

    static final String LABEL = "berth.bench=proxy";
    private static final String NETWORK = "berth-bench-proxy";
    private static final int PORT = 8080;

    private final List<String> ids = new ArrayList<>();
    private final List<String> addresses = new ArrayList<>();

    /** Starts {@code count} echo containers from {@code image}, each ready (its /ready answered) on return. */
    static EchoContainers start(String image, int count, String memory) throws Exception {
        EchoContainers echoes = new EchoContainers();
        try {
            removeLeftovers();
            docker("network", "create", "--label", LABEL, NETWORK);
            for (int i = 0; i < count; i++) {
                String id = docker(
                                "run",
                                "-d",
                                "--label",
                                LABEL,
                                "--network",
                                NETWORK,
                                "--memory",
                                memory,
                                "--read-only",
                                "--tmpfs",
                                "/tmp:size=16m",
                                "--user",
                                "65534:65534",
                                "--cap-drop",
                                "ALL",
                                "-e",
                                "BERTH_FEED_PER_SECOND=0",
                                "-e",
                                "BERTH_SESSION=bench-echo-" + i,
                                // a backend the 1-connection cases leave idle must not exit (its default grace is 60 s)
                                "-e",
                                "BERTH_IDLE_GRACE_MS=" + Duration.ofHours(2).toMillis(),
                                image)
                        .trim();
                echoes.ids.add(id);
                String ip = docker(
                                "inspect",
                                "-f",
                                "{{(index .NetworkSettings.Networks \"" + NETWORK + "\").IPAddress}}",
                                id)
                        .trim();
                echoes.addresses.add(ip + ":" + PORT);
            }
            for (String address : echoes.addresses) {
                awaitReady(address);
            }
            return echoes;
        } catch (Exception e) {
            echoes.close();
            throw e;
        }
    }

    /** host:port of each container, in the order every path uses them. */
    List<String> addresses() {
        return addresses;
    }

    @Override
    public void close() {
        try {
            removeLeftovers();
        } catch (Exception e) {
            Progress.print("could not remove the echo containers (label " + LABEL + "): " + e.getMessage());
        }
        ids.clear();
    }

    private static void removeLeftovers() throws Exception {
        String left = docker("ps", "-aq", "--filter", "label=" + LABEL).trim();
        if (!left.isEmpty()) {
            List<String> command = new ArrayList<>(List.of("rm", "-f"));
            command.addAll(List.of(left.split("\\s+")));
            docker(command.toArray(String[]::new));
        }
        String networks =
                docker("network", "ls", "-q", "--filter", "label=" + LABEL).trim();
        if (!networks.isEmpty()) {
            docker("network", "rm", NETWORK);
        }
    }

    private static void awaitReady(String address) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                var answer = http.send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + address + "/ready"))
                                .timeout(Duration.ofSeconds(1))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            if (System.nanoTime() > until) {
                throw new IllegalStateException("echo container at " + address + " not ready within 30 s");
            }
            Thread.sleep(20);
        }
    }

    /** Runs {@code docker args…}, returns its output; fails with its output when it exits non-zero. */
    static String docker(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out.trim());
        }
        return out;
    }
}
