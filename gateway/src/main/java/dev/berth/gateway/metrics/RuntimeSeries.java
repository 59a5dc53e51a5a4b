package dev.berth.gateway.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The process under the gateway: Micrometer's JVM and process binders (memory, GC, threads,
 * classes, CPU, uptime, file descriptors) and {@code berth_build_info{version,vertx,java} 1}.
 */
final class RuntimeSeries implements AutoCloseable {

    static final String UNKNOWN = "unknown";

    /** Holds GC notification listeners on the JVM's beans: closed with the gateway, or they pile up. */
    private final JvmGcMetrics gc = new JvmGcMetrics();

    RuntimeSeries(MeterRegistry registry) {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Gauge.builder("berth.build.info", () -> 1)
                .description("1, labelled with the gateway's version (its jar's; unknown when run from classes), "
                        + "and the Vert.x and Java versions it runs on")
                .tags(
                        "version",
                        berthVersion(),
                        "vertx",
                        vertxVersion(),
                        "java",
                        Runtime.version().toString())
                .register(registry);
    }

    @Override
    public void close() {
        gc.close();
    }

    /** The version the build wrote into the gateway jar's manifest, as {@code ./berth --version} shows it. */
    static String berthVersion() {
        String version = RuntimeSeries.class.getPackage().getImplementationVersion();
        return version == null ? UNKNOWN : version;
    }

    /** The version vertx-core ships in its jar (what Vert.x's own version command reads). */
    static String vertxVersion() {
        try (InputStream in = resource("META-INF/vertx/vertx-version.txt")) {
            return in == null ? UNKNOWN : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException unreadable) {
            return UNKNOWN;
        }
    }

    private static InputStream resource(String path) {
        return RuntimeSeries.class.getClassLoader().getResourceAsStream(path);
    }
}
