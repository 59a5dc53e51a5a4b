package dev.berth.gateway.bench;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * nginx from Debian's package as the websocket reverse proxy a user would otherwise put in front
 * of the echo containers: one server on loopback, round robin over the shared backends at {@code
 * /}, and one location per session container ({@code /s/0}, {@code /s/1}, …, as a user would
 * route to each session's own container), configured as nginx's own documentation says for
 * websockets (HTTP/1.1 upstream, Upgrade and Connection passed on), workers = cores, no access
 * log. A child process in the foreground, stopped by {@link #close}.
 */
final class NginxProxy implements AutoCloseable {

    private final Process process;
    private final int port;

    private NginxProxy(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** The path that reaches session container {@code index} (of the list given to {@link #start}). */
    static String sessionPath(int index) {
        return "/s/" + index;
    }

    static NginxProxy start(Path dir, List<String> backends, List<String> sessionBackends, int port) throws Exception {
        Files.createDirectories(dir);
        StringBuilder sessionLocations = new StringBuilder();
        for (int i = 0; i < sessionBackends.size(); i++) {
            sessionLocations.append("    location = %s { proxy_pass http://%s/; include %s; }\n"
                    .formatted(
                            sessionPath(i),
                            sessionBackends.get(i),
                            dir.resolve("websocket.conf").toAbsolutePath()));
        }
        Files.writeString(dir.resolve("websocket.conf"), """
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
        tcp_nodelay on;
        """);
        Files.createDirectories(dir.resolve("temp"));
        dir.resolve("temp").toFile().setWritable(true, false);
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, """
        worker_processes auto;
        daemon off;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        events { worker_connections 16384; }
        http {
          access_log off;
          client_body_temp_path %1$s/temp/body;
          proxy_temp_path %1$s/temp/proxy;
          fastcgi_temp_path %1$s/temp/fastcgi;
          uwsgi_temp_path %1$s/temp/uwsgi;
          scgi_temp_path %1$s/temp/scgi;
          upstream echoes {
        %2$s
          }
          map $http_upgrade $connection_upgrade { default upgrade; '' close; }
          server {
            listen 127.0.0.1:%3$d backlog=4096;
            location / { proxy_pass http://echoes; include %4$s; }
        %5$s  }
        }
        """.formatted(
                        dir.toAbsolutePath(),
                        backends.stream().map(b -> "    server " + b + ";").collect(Collectors.joining("\n")),
                        port,
                        dir.resolve("websocket.conf").toAbsolutePath(),
                        sessionLocations));
        Process process = new ProcessBuilder(
                        "nginx", "-c", conf.toAbsolutePath().toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile())
                .start();
        NginxProxy nginx = new NginxProxy(process, port);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!listening(port)) {
            if (!process.isAlive() || System.nanoTime() > until) {
                nginx.close();
                throw new IllegalStateException("nginx did not listen on " + port + "; see " + dir.resolve("error.log")
                        + " and " + dir.resolve("nginx.out"));
            }
            Thread.sleep(20);
        }
        return nginx;
    }

    int port() {
        return port;
    }

    /** The master process; its workers are its children. */
    ProcessHandle process() {
        return process.toHandle();
    }

    /** nginx's version line, for the report. */
    static String version() {
        try {
            Process p =
                    new ProcessBuilder("nginx", "-v").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return out;
        } catch (IOException | InterruptedException e) {
            return "nginx (version unknown: " + e.getMessage() + ")";
        }
    }

    private static boolean listening(int port) {
        try (Socket probe = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: nginx's fast shutdown, its workers with it
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
