package dev.berth.gateway.launcher;

import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.RouteConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** Routes for the launcher's own tests, read from a config file as the gateway reads them. */
final class TestRoutes {

    private TestRoutes() {}

    /** Route {@code name} at version {@code version}, with a stop timeout of 7 s. */
    static RouteConfig route(Path dir, String name, String version) throws Exception {
        Path file = dir.resolve(name + "-" + version + ".yaml");
        Files.writeString(file, """
        launcher: process
        routes:
          - name: %s
            path: /%s
            version: %s
            process: {command: [java, -jar, handler.jar]}
            timeouts: {stop: 7s}
        """.formatted(name, name, version));
        return ConfigLoader.load(file).routes().get(0);
    }
}
