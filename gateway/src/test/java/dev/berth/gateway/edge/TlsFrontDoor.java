package dev.berth.gateway.edge;

import dev.berth.gateway.Command;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The front door an operator puts before the gateway: Debian's nginx terminating TLS on a loopback
 * port with a self-signed certificate for 127.0.0.1, passing websockets and plain requests to the
 * gateway with the headers a typical site config sets ({@code Host $host}, so without the port;
 * {@code X-Forwarded-For}, {@code X-Forwarded-Proto}, {@code X-Forwarded-Host}) and reads that
 * wait an hour. nginx runs as a child process of this JVM in the foreground, as the current user,
 * with everything it writes in a temp folder of its own; {@link #stop} and {@link #restart} cut and
 * bring back every connection through it on the same port, and {@link #close} stops it for good and
 * removes the folder.
 */
public final class TlsFrontDoor implements AutoCloseable {

    private static final String NGINX = "/usr/sbin/nginx";
    /** How long a start may wait for nginx's listening socket, and for its port to be free again. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private static final int PORT_ATTEMPTS = 10;

    private final Path dir;
    private final int gatewayPort;
    /** Where clients connect: chosen free at the first start, the same after every restart. */
    public final int port;

    private Process nginx;
    private Thread killOnExit;

    private TlsFrontDoor(Path dir, int gatewayPort, int port) {
        this.dir = dir;
        this.gatewayPort = gatewayPort;
        this.port = port;
    }

    /** nginx on a free port of 127.0.0.1 in front of the gateway listening on {@code gatewayPort}. */
    public static TlsFrontDoor start(int gatewayPort) throws Exception {
        Path dir = Files.createTempDirectory("berth-front-door-");
        try {
            certificate(dir);
            for (int attempt = 1; ; attempt++) {
                TlsFrontDoor door = new TlsFrontDoor(dir, gatewayPort, freePort());
                if (door.launch(Duration.ZERO)) {
                    return door;
                }
                // Another process took the port between our look and nginx's bind: another port.
                if (attempt == PORT_ATTEMPTS) {
                    throw new IllegalStateException(
                            "nginx found no free port in " + PORT_ATTEMPTS + " tries: " + door.errorLog());
                }
            }
        } catch (Exception | Error failed) {
            deleteTree(dir);
            throw failed;
        }
    }

    /** The page origin a browser sends from here: {@code https://127.0.0.1:<port>}. */
    public String origin() {
        return "https://127.0.0.1:" + port;
    }

    /** What nginx logged so far (its error log and its own output), for a failure message. */
    public String errorLog() {
        StringBuilder log = new StringBuilder();
        for (String name : List.of("error.log", "nginx.out")) {
            try {
                log.append(Files.readString(dir.resolve(name)));
            } catch (IOException none) {
                // not written yet
            }
        }
        return log.toString();
    }

    /**
     * Stops nginx as its service manager would (TERM: the fast shutdown, which drops every client
     * connection at once), killing it and its workers if it has not exited within 10 s.
     */
    public void stop() throws InterruptedException {
        if (nginx == null) {
            return;
        }
        Process master = nginx;
        nginx = null;
        List<ProcessHandle> workers = master.descendants().toList();
        master.destroy();
        if (!master.waitFor(10, TimeUnit.SECONDS)) {
            workers.forEach(ProcessHandle::destroyForcibly);
            master.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        workers.forEach(ProcessHandle::destroyForcibly); // none are left after a clean exit
        Runtime.getRuntime().removeShutdownHook(killOnExit);
    }

    /** Starts nginx again on the same port, waiting out a port still held for a moment. */
    public void restart() throws Exception {
        stop();
        if (!launch(START_TIMEOUT)) {
            throw new IllegalStateException("nginx could not listen on " + port + " again: " + errorLog());
        }
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * Starts nginx on {@link #port}; false if the port was taken (retried for {@code busyFor}). Fails
     * if nginx stops for another reason or does not listen within {@link #START_TIMEOUT}.
     */
    private boolean launch(Duration busyFor) throws Exception {
        Files.writeString(dir.resolve("nginx.conf"), config());
        long giveUp = System.nanoTime() + busyFor.toNanos();
        while (true) {
            Files.deleteIfExists(dir.resolve("error.log"));
            Files.deleteIfExists(dir.resolve("nginx.pid"));
            Process master = new ProcessBuilder(
                            NGINX,
                            "-p",
                            dir.toString(),
                            "-c",
                            dir.resolve("nginx.conf").toString(),
                            "-e",
                            dir.resolve("error.log").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("nginx.out").toFile())
                    .start();
            nginx = master;
            // A test JVM that dies takes its nginx with it, whatever the test's cleanup did.
            killOnExit = new Thread(
                    () -> {
                        master.descendants().forEach(ProcessHandle::destroyForcibly);
                        master.destroyForcibly();
                    },
                    "kill-nginx-" + master.pid());
            Runtime.getRuntime().addShutdownHook(killOnExit);
            if (awaitListening(master)) {
                return true;
            }
            stop();
            if (!errorLog().contains("Address already in use")) {
                throw new IllegalStateException("nginx exited at start: " + errorLog());
            }
            if (System.nanoTime() - giveUp > 0) {
                return false;
            }
            Thread.sleep(200);
        }
    }

    /** True once nginx has bound its port (its pid file comes after) and answers there; false if it exited. */
    private boolean awaitListening(Process master) throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (master.isAlive()) {
            if (Files.exists(dir.resolve("nginx.pid")) && answers()) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                stop();
                throw new IllegalStateException(
                        "nginx did not listen on " + port + " within " + START_TIMEOUT + ": " + errorLog());
            }
            Thread.sleep(20);
        }
        return false;
    }

    private boolean answers() {
        try (Socket probe = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private String config() throws IOException {
        // As root, nginx would run its worker as nobody, who cannot read this folder.
        boolean root = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        return """
        %1$s
        worker_processes 1;
        master_process on;
        daemon off;
        pid %2$s/nginx.pid;
        error_log %2$s/error.log info;
        events { worker_connections 1024; }
        http {
          access_log off;
        %5$s
          server {
            listen 127.0.0.1:%3$d ssl;
            ssl_certificate %2$s/cert.pem;
            ssl_certificate_key %2$s/key.pem;
            location / {
              proxy_pass http://127.0.0.1:%4$d;
              proxy_http_version 1.1;
              proxy_set_header Upgrade $http_upgrade;
              proxy_set_header Connection "upgrade";
              proxy_set_header Host $host;
              proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
              proxy_set_header X-Forwarded-Proto $scheme;
              proxy_set_header X-Forwarded-Host $host;
              proxy_read_timeout 1h;
              proxy_send_timeout 1h;
            }
          }
        }
        """.formatted(root ? "user root;" : "", dir, port, gatewayPort, temporaryFiles(dir));
    }

    /**
     * The http block's lines that keep nginx's temporary files in {@code dir}: Debian's build puts
     * them under /var/lib/nginx, which a test must not use (another nginx may, and it may be absent).
     */
    public static String temporaryFiles(Path dir) {
        StringBuilder lines = new StringBuilder();
        for (String kind : List.of("client_body", "proxy", "fastcgi", "uwsgi", "scgi")) {
            lines.append("  ")
                    .append(kind)
                    .append("_temp_path ")
                    .append(dir.resolve(kind))
                    .append(";\n");
        }
        return lines.toString();
    }

    /** A self-signed certificate for 127.0.0.1 (as its IP SAN), good for a day: {@code cert.pem} and {@code key.pem} in {@code dir}. */
    public static void certificate(Path dir) throws Exception {
        Command.Result made = Command.run(
                List.of(
                        "openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-days",
                        "1",
                        "-subj",
                        "/CN=127.0.0.1",
                        "-addext",
                        "subjectAltName=IP:127.0.0.1",
                        "-keyout",
                        dir.resolve("key.pem").toString(),
                        "-out",
                        dir.resolve("cert.pem").toString()),
                60);
        if (made.status() != 0) {
            throw new IllegalStateException("openssl could not make a certificate: " + made.output());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
