package dev.berth.gateway.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * What the proxy benchmark measured, per path and case over the rounds, and its report: medians
 * of each round's values, the ratios between the paths (the result), the targets, and a PNG of
 * the throughput ratios.
 */
final class ProxyReport {

    /** One round's values of one path on one case. */
    private record Sample(
            double p50, double p99, double p999, int sent, int skipped, double perSecond, double cpuCores) {
        /** The proxy's CPU time per echoed message (both its frames, each read once and written once). */
        double cpuMicrosPerMessage() {
            return cpuCores * 1e6 / perSecond;
        }
    }

    private final List<ProxyBenchmark.Case> cases;
    private final int rounds;
    private final Duration measure;
    private final int backends;
    private final int sessions;
    private final String command;
    private final Map<String, List<Sample>> samples = new HashMap<>();
    private final String startedAt = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z"));
    private String machine = "?";
    private String loadBefore = "?";
    private String loadAfter = "?";
    private String nginxVersion = "?";
    private String gatewayCommand = "?";

    ProxyReport(
            List<ProxyBenchmark.Case> cases, int rounds, Duration measure, int backends, int sessions, String command) {
        this.cases = cases;
        this.rounds = rounds;
        this.measure = measure;
        this.backends = backends;
        this.sessions = sessions;
        this.command = command;
    }

    void machine(String description, String load, String nginx) {
        this.machine = description;
        this.loadBefore = load;
        this.nginxVersion = nginx;
    }

    void loadAfter(String load) {
        this.loadAfter = load;
    }

    void gatewayCommand(String command) {
        this.gatewayCommand = command;
    }

    /** @param cpuCores the proxy's CPU use during the throughput run, in cores (NaN for direct) */
    synchronized void add(
            String path,
            ProxyBenchmark.Case measured,
            EchoLoad.Latency latency,
            EchoLoad.Throughput throughput,
            double cpuCores) {
        samples.computeIfAbsent(key(path, measured), k -> new ArrayList<>())
                .add(new Sample(
                        percentileMs(latency.rttNanos(), 0.50),
                        percentileMs(latency.rttNanos(), 0.99),
                        percentileMs(latency.rttNanos(), 0.999),
                        latency.sent(),
                        latency.skipped(),
                        throughput.perSecond(),
                        cpuCores));
    }

    private static String key(String path, ProxyBenchmark.Case measured) {
        return path + "/" + measured.label();
    }

    /** The median over the rounds of one value, NaN when the case was not measured. */
    private double median(
            String path, ProxyBenchmark.Case measured, java.util.function.ToDoubleFunction<Sample> value) {
        List<Sample> list = samples.getOrDefault(key(path, measured), List.of());
        if (list.isEmpty()) {
            return Double.NaN;
        }
        double[] values = list.stream().mapToDouble(value).sorted().toArray();
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private double throughput(String path, ProxyBenchmark.Case c) {
        return median(path, c, Sample::perSecond);
    }

    String markdown(Exception failure) {
        StringBuilder out = new StringBuilder();
        out.append("# Benchmark: the data path, direct, through nginx and through Berth\n\n");
        if (failure != null) {
            out.append("**The run failed:** ")
                    .append(failure)
                    .append(". The tables hold what was measured before.\n\n");
        }
        out.append("- Date: ").append(startedAt).append("\n");
        out.append("- Machine: ")
                .append(machine)
                .append("; load average ")
                .append(loadBefore)
                .append(" before, ")
                .append(loadAfter)
                .append(" after\n");
        out.append("- Shared shape: ")
                .append(backends)
                .append(" echo containers (`berth/handler`, feed off, 256 MiB, no CPU limit), the same ones on every"
                        + " path, many connections, binary messages. nginx: round robin over the containers. Berth: `")
                .append(gatewayCommand)
                .append("`, `launcher: fixed` (every client a session of its own, piped to the containers in turn)\n");
        out.append("- Sessions shape, the one users have most: ")
                .append(sessions)
                .append(" sessions, each its own container launched by Berth (`launcher: docker`, the same handler,"
                        + " feed off, 256 MiB, no CPU limit); one closed-loop connection per session (one message in"
                        + " flight) that leaves (1001) and comes back with its cookie between measurements; text"
                        + " (letters) and binary messages. nginx: one location per container. Direct: the container's"
                        + " address\n");
        out.append("- nginx: ")
                .append(nginxVersion)
                .append(", `worker_processes auto`, websocket proxy on loopback; clients (Vert.x, one event loop) in"
                        + " the benchmark's JVM\n");
        out.append("- Bare Netty relay (`NettyRelay`, a reference, not a peer): the same containers as nginx, through"
                + " a websocket relay on Netty in a JVM of its own (`-Xmx1g`, two epoll loops, each client's backend"
                + " dialled on the client's loop), passing data frames as they are with backpressure and one flush"
                + " per read pass, with no session and no checks of its own (Netty's websocket handlers still checks text"
                + " frames' UTF-8, byte by byte, by default): what a relay on Netty alone costs, without Vert.x\n");
        out.append("- Each path first carries each shape's load of 64 B and then 16 KiB echoes for 4 s each, unmeasured"
                + " (the gateway's JIT compiles its data path)\n");
        out.append("- ")
                .append(rounds)
                .append(" interleaved rounds (the paths' order rotates each round), ")
                .append(measure.toSeconds())
                .append(" s per measurement; each value is the median over the rounds\n");
        out.append("- Rerun: `").append(command).append("`\n\n");

        out.append("## Targets\n\n| target | case | measured | met |\n|---|---|---:|---|\n");
        for (ProxyBenchmark.Case c : cases) {
            if (c.size() <= 16 << 10) {
                double ratio = throughput("berth", c) / throughput("nginx", c);
                out.append(row("Berth / nginx throughput ≥ 1.0", c, String.format("%.2f", ratio), ratio >= 1.0));
            }
        }
        for (ProxyBenchmark.Case c : cases) {
            if (c.size() == 64) {
                double added = (median("berth", c, Sample::p50) - median("direct", c, Sample::p50)) * 1000;
                out.append(row(
                        "Berth's added p50 over direct ≤ 100 µs", c, String.format("%.0f µs", added), added <= 100));
            }
        }
        for (ProxyBenchmark.Case c : cases) {
            double berth = median("berth", c, Sample::p99);
            double nginx = median("nginx", c, Sample::p99);
            out.append(row("Berth p99 ≤ nginx p99", c, String.format("%.3f vs %.3f ms", berth, nginx), berth <= nginx));
        }

        out.append("\n## Throughput (closed loop, a window of messages in flight per connection)\n\n");
        out.append(
                "| case | window | direct msg/s | nginx msg/s | Berth msg/s | Berth MB/s | Berth / nginx | Berth / direct"
                        + " | nginx / direct | CPU nginx / Berth (cores) | CPU per message nginx / Berth (µs) | bare Netty"
                        + " relay msg/s (/ nginx), CPU per message |\n"
                        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
        for (ProxyBenchmark.Case c : cases) {
            double direct = throughput("direct", c);
            double nginx = throughput("nginx", c);
            double berth = throughput("berth", c);
            out.append(String.format(
                    "| %s | %d | %.0f | %.0f | %.0f | %.1f | **%.2f** | %.2f | %.2f | %.2f / %.2f | %.1f / %.1f | %.0f (%.2f), %.1f µs |%n",
                    c.label(),
                    c.window(),
                    direct,
                    nginx,
                    berth,
                    berth * c.size() / 1e6,
                    berth / nginx,
                    berth / direct,
                    nginx / direct,
                    median("nginx", c, Sample::cpuCores),
                    median("berth", c, Sample::cpuCores),
                    median("nginx", c, Sample::cpuMicrosPerMessage),
                    median("berth", c, Sample::cpuMicrosPerMessage),
                    throughput("netty", c),
                    throughput("netty", c) / nginx,
                    median("netty", c, Sample::cpuMicrosPerMessage)));
        }
        out.append("\n## Round trips at a fixed rate (ms; at most one message in flight per connection)\n\n");
        out.append("| case | rate/s | direct p50 / p99 / p999 | nginx p50 / p99 / p999 | Berth p50 / p99 / p999 |"
                + " bare Netty relay p50 / p99 / p999 | Berth − direct p50 | skipped (busy) d / n / B |\n"
                + "|---|---:|---|---|---|---|---:|---|\n");
        for (ProxyBenchmark.Case c : cases) {
            out.append("| ").append(c.label()).append(" | ").append(c.perSecond());
            for (String path : ProxyBenchmark.PATHS) {
                out.append(String.format(
                        " | %.3f / %.3f / %.3f",
                        median(path, c, Sample::p50), median(path, c, Sample::p99), median(path, c, Sample::p999)));
            }
            out.append(String.format(
                    " | %+.0f µs | %.0f / %.0f / %.0f |%n",
                    (median("berth", c, Sample::p50) - median("direct", c, Sample::p50)) * 1000,
                    median("direct", c, Sample::skipped),
                    median("nginx", c, Sample::skipped),
                    median("berth", c, Sample::skipped)));
        }
        out.append("\n![throughput relative to direct](proxy.png)\n\n");
        out.append(
                "CPU is the proxy's own (nginx's master and workers; the gateway's JVM) during the throughput run, in"
                        + " cores of this 2-core machine, which the clients and the echo containers share; per message,"
                        + " it is that time over the messages echoed (a message and its echo: two frames through the"
                        + " proxy).\n\n");
        out.append("A round trip is a message of the case's size sent and its echo received whole. "
                + "p999 needs a thousand samples: at 1 MiB and 20 messages a second it is the slowest of about 60. "
                + "'Skipped' counts sends that found their connection's previous message still in flight (a fixed rate with "
                + "one connection and a slow path skips instead of queueing).\n");
        return out.toString();
    }

    private static String row(String target, ProxyBenchmark.Case c, String measured, boolean met) {
        return "| " + target + " | " + c.label() + " | " + measured + " | " + (met ? "yes" : "**no**") + " |\n";
    }

    /** Bars of nginx's and Berth's throughput relative to direct (1.0), per case. */
    void writePlot(Path file) throws Exception {
        int width = 120 + cases.size() * 90;
        int height = 420;
        int top = 50;
        int bottom = height - 70;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString("Throughput relative to a direct connection (1.0), median of " + rounds + " rounds", 20, 25);
        double max = 1.2;
        for (ProxyBenchmark.Case c : cases) {
            max = Math.max(max, Math.max(throughput("nginx", c), throughput("berth", c)) / throughput("direct", c));
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (double tick = 0; tick <= max + 1e-9; tick += 0.2) {
            int y = bottom - (int) ((bottom - top) * tick / max);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(60, y, width - 20, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format("%.1f", tick), 25, y + 4);
        }
        int y1 = bottom - (int) ((bottom - top) / max);
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1, new float[] {6, 4}, 0));
        g.drawLine(60, y1, width - 20, y1);
        g.setStroke(new BasicStroke(1));
        Color nginxColor = new Color(0x2E7D32);
        Color berthColor = new Color(0x1565C0);
        for (int i = 0; i < cases.size(); i++) {
            ProxyBenchmark.Case c = cases.get(i);
            int x = 80 + i * 90;
            double direct = throughput("direct", c);
            double[] ratios = {throughput("nginx", c) / direct, throughput("berth", c) / direct};
            Color[] colors = {nginxColor, berthColor};
            for (int b = 0; b < 2; b++) {
                if (Double.isNaN(ratios[b])) {
                    continue;
                }
                int h = (int) ((bottom - top) * ratios[b] / max);
                g.setColor(colors[b]);
                g.fillRect(x + b * 32, bottom - h, 28, h);
                g.setColor(Color.BLACK);
                g.drawString(String.format("%.2f", ratios[b]), x + b * 32, bottom - h - 4);
            }
            g.drawString(
                    size(c.size()) + (c.shape() == ProxyBenchmark.Shape.SESSIONS ? (c.text() ? " txt" : " bin") : ""),
                    x + 4,
                    bottom + 16);
            g.drawString(
                    c.shape() == ProxyBenchmark.Shape.SESSIONS ? c.connections() + " sess." : "× " + c.connections(),
                    x + 10,
                    bottom + 30);
        }
        g.setColor(nginxColor);
        g.fillRect(60, height - 25, 12, 12);
        g.setColor(Color.BLACK);
        g.drawString("nginx", 78, height - 15);
        g.setColor(berthColor);
        g.fillRect(140, height - 25, 12, 12);
        g.setColor(Color.BLACK);
        g.drawString("Berth", 158, height - 15);
        g.drawString("message size × connections, or per-session containers", width / 2 - 100, height - 15);
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    static String size(int bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : bytes >= 1 << 10 ? (bytes >> 10) + " KiB" : bytes + " B";
    }

    static double percentileMs(long[] nanos, double quantile) {
        if (nanos.length == 0) {
            return Double.NaN;
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(quantile * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}
