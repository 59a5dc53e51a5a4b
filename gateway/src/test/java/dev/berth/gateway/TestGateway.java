package dev.berth.gateway;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.LauncherKind;
import dev.berth.gateway.launcher.LauncherFactory;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gateway deployed for one test on an ephemeral port, from a config file written the way an
 * operator would write one. Its route name is unique per test, so whatever it launches can be
 * found and removed by label even when the test fails.
 */
public final class TestGateway implements AutoCloseable {

    /**
     * One client for every call of {@link #get} and {@link #admin}: a client per call would leave an
     * idle keep-alive connection open for each until it is collected, which the gateway rightly
     * counts as open.
     */
    private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

    public static final Path ROOT =
            Path.of(System.getProperty("berth.root", "..")).toAbsolutePath().normalize();
    static final String IMAGE = System.getProperty("berth.handler.image", "berth/handler:0.1.0");
    static final Path HANDLER_JAR = ROOT.resolve("handler-image/target/berth-handler.jar");

    public final String route;
    public final int port;
    /** The admin API's port and bearer token. */
    public final int adminPort;

    public final String adminToken;
    /** The admin API's read-only token: GETs only. */
    public final String adminReadOnlyToken;
    /** The gateway itself, for what a signal would do (drain). */
    public final GatewayVerticle verticle;
    /** The config file it runs, which a test may rewrite and reload; removed at close. */
    public final Path configFile;

    private final Vertx vertx;
    private final String deployment;
    private final Path adminDir;
    /** The session token secret's file, the test's own; {@link Builder#sameAs} passes it on. */
    /** The token secret file this gateway signs with (its own, or the one of the gateway it restarts). */
    public final Path tokenSecret;

    private boolean closed;

    private TestGateway(
            Vertx vertx,
            String route,
            String deployment,
            GatewayVerticle verticle,
            Path adminDir,
            Path configFile,
            Path tokenSecret)
            throws java.io.IOException {
        this.vertx = vertx;
        this.tokenSecret = tokenSecret;
        this.configFile = configFile;
        this.route = route;
        this.deployment = deployment;
        this.verticle = verticle;
        this.port = verticle.port();
        this.adminPort = verticle.adminPort();
        this.adminDir = adminDir;
        this.adminToken = Files.readString(adminDir.resolve("admin.key")).trim();
        this.adminReadOnlyToken =
                Files.readString(adminDir.resolve("admin-read.key")).trim();
    }

    public static Builder on(LauncherKind launcher) {
        return new Builder(launcher);
    }

    /** A gateway whose launcher is not picked by the config but given, e.g. a fake one. */
    public static Builder with(LauncherFactory.Source launchers) {
        return new Builder(LauncherKind.PROCESS).launchers(launchers);
    }

    public static final class Builder {
        private final LauncherKind launcher;
        private LauncherFactory.Source launchers = LauncherFactory::create;
        private String route = TestRoutes.newName();
        private int port;
        private String grace = "30s";
        private String idle = "30m";
        private String maxLifetime = "12h";
        private String keepalive = "25s";
        private String bufferBytes = "8m";
        private int bufferFrames = 10_000;
        private String onShutdown = "end";
        private String apiTimeout = "60s";
        private String maxFrameSize = "16m";
        private String maxMessageSize = "64m";
        private String listenExtra = "";
        private String adminExtra = "";
        private String sessionsExtra = "";
        private String routeExtra = "";
        private String authSection = "";
        private String logSection = "";
        /** The route's env: the handler's test commands (close, leak, probe) on, which tests send. */
        private final Map<String, String> env = new LinkedHashMap<>(Map.of("BERTH_TEST_HOOKS", "1"));

        private String dockerExtra = "";
        private String routeDockerExtra = "";
        private String version = "test";
        private String reapInterval = "1s";
        private int maxSessions = 20;
        private String image = IMAGE;
        // Twice the shipped ones and more: test classes run side by side on two cores, and a busy
        // engine can take over ten seconds to start a container. Tests of the timeouts set their own.
        private String readyTimeout = "30s";
        private String startTimeout = "30s";
        private String dockerHost = "unix:///var/run/docker.sock";
        /** A secret of the test's own (a file in the temp folder, made by the gateway), shared only with its restarts. */
        private Path tokenSecret;

        private Builder(LauncherKind launcher) {
            this.launcher = launcher;
        }

        public Builder launchers(LauncherFactory.Source source) {
            this.launchers = source;
            return this;
        }

        /** Another gateway for the same sessions: same route name, port and token secret, as after a restart. */
        public Builder sameAs(TestGateway earlier) {
            this.route = earlier.route;
            this.port = earlier.port;
            this.tokenSecret = earlier.tokenSecret;
            return this;
        }

        public Builder reapInterval(String duration) {
            this.reapInterval = duration;
            return this;
        }

        public Builder version(String routeVersion) {
            this.version = routeVersion;
            return this;
        }

        public Builder port(int listenPort) {
            this.port = listenPort;
            return this;
        }

        public Builder grace(String duration) {
            this.grace = duration;
            return this;
        }

        public Builder idle(String duration) {
            this.idle = duration;
            return this;
        }

        public Builder maxLifetime(String duration) {
            this.maxLifetime = duration;
            return this;
        }

        public Builder keepalive(String duration) {
            this.keepalive = duration;
            return this;
        }

        public Builder buffer(String maxBytes, int maxFrames) {
            this.bufferBytes = maxBytes;
            this.bufferFrames = maxFrames;
            return this;
        }

        public Builder onShutdown(String policy) {
            this.onShutdown = policy;
            return this;
        }

        /** More keys of the admin mapping, as YAML flow entries, e.g. "metrics: true". */
        public Builder admin(String entries) {
            this.adminExtra += ", " + entries;
            return this;
        }

        /** More keys of the listen mapping, as YAML flow entries, e.g. "handshakeTimeout: 500ms". */
        public Builder listen(String entries) {
            this.listenExtra += ", " + entries;
            return this;
        }

        /** More keys of the sessions mapping, e.g. "perClient: {maxSessions: 2}". */
        public Builder sessions(String entries) {
            this.sessionsExtra += ", " + entries;
            return this;
        }

        /** A log section, as YAML flow entries, e.g. "format: json". */
        public Builder log(String entries) {
            this.logSection = "log: {" + entries + "}\n";
            return this;
        }

        /** An auth section, as YAML flow entries, e.g. "from: header, userHeader: X-Forwarded-User". */
        public Builder auth(String entries) {
            this.authSection = "auth: {" + entries + "}\n";
            return this;
        }

        /** One more variable in the route's env. */
        public Builder env(String name, String value) {
            this.env.put(name, value);
            return this;
        }

        private String envAsYaml() {
            StringBuilder yaml = new StringBuilder();
            env.forEach((name, value) -> yaml.append(yaml.isEmpty() ? "" : ", ")
                    .append(name)
                    .append(": '")
                    .append(value.replace("'", "''"))
                    .append('\''));
            return yaml.toString();
        }

        /** More keys of the route, as a block line, e.g. "canary: {...}" (the env has {@link #env}). */
        public Builder route(String line) {
            this.routeExtra += "\n    " + line; // the route's keys sit four spaces in
            return this;
        }

        public Builder maxFrameSize(String size) {
            this.maxFrameSize = size;
            return this;
        }

        public Builder maxMessageSize(String size) {
            this.maxMessageSize = size;
            return this;
        }

        public Builder apiTimeout(String duration) {
            this.apiTimeout = duration;
            return this;
        }

        public Builder maxSessions(int count) {
            this.maxSessions = count;
            return this;
        }

        public Builder image(String tag) {
            this.image = tag;
            return this;
        }

        public Builder startTimeout(String duration) {
            this.startTimeout = duration;
            return this;
        }

        public Builder readyTimeout(String duration) {
            this.readyTimeout = duration;
            return this;
        }

        public Builder dockerHost(String host) {
            this.dockerHost = host;
            return this;
        }

        /** Keys of docker.swarm, e.g. "dial: published". */
        public Builder swarm(String entries) {
            this.dockerExtra += ", swarm: {" + entries + "}";
            return this;
        }

        /** More keys of the docker mapping, as YAML flow entries, e.g. "stallAfter: 2s". */
        public Builder docker(String entries) {
            this.dockerExtra += ", " + entries;
            return this;
        }

        /** The route's docker.egress: none or open. */
        public Builder egress(String egress) {
            this.routeDockerExtra = ", egress: " + egress;
            return this;
        }

        public TestGateway start(Vertx vertx) throws Exception {
            Path file = Files.createTempFile("berth-test-", ".yaml");
            Path adminDir = Files.createTempDirectory("berth-test-admin-");
            if (tokenSecret == null) {
                Path dir = Files.createTempDirectory("berth-test-token-");
                tokenSecret = dir.resolve("token.key");
                dir.toFile().deleteOnExit(); // after the file: deleted in the reverse order of registration
                tokenSecret.toFile().deleteOnExit(); // kept until then: a restarted gateway (sameAs) reads it again
            }
            Files.writeString(file, """
          admin: {port: 0, tokenFile: "%s", readOnlyTokenFile: "%s"%s}
          listen: {host: 127.0.0.1, port: %d, maxFrameSize: %s, maxMessageSize: %s%s}
          launcher: %s
          docker: {host: "%s", apiTimeout: %s%s}
          sessions: {onShutdown: %s, reapInterval: %s, tokenSecretFile: "%s"%s}
          %s%sroutes:
            - name: %s
              path: /ws
              version: %s
              docker: {image: "%s"%s}
              process: {command: [java, -XX:+UseSerialGC, -XX:TieredStopAtLevel=1, -jar, "%s"]}
              maxSessions: %d
              timeouts: {grace: %s, start: %s, ready: %s, stop: 1s, idle: %s, maxLifetime: %s, keepalive: %s}
              buffer: {maxBytes: %s, maxFrames: %d}
              env: {%s}%s
          """.formatted(
                            adminDir.resolve("admin.key"),
                            adminDir.resolve("admin-read.key"),
                            adminExtra,
                            port,
                            maxFrameSize,
                            maxMessageSize,
                            listenExtra,
                            launcher.name().toLowerCase(Locale.ROOT),
                            dockerHost,
                            apiTimeout,
                            dockerExtra,
                            onShutdown,
                            reapInterval,
                            tokenSecret,
                            sessionsExtra,
                            authSection,
                            logSection,
                            route,
                            version,
                            image,
                            routeDockerExtra,
                            HANDLER_JAR,
                            maxSessions,
                            grace,
                            startTimeout,
                            readyTimeout,
                            idle,
                            maxLifetime,
                            keepalive,
                            bufferBytes,
                            bufferFrames,
                            envAsYaml(),
                            routeExtra));
            try {
                BerthConfig config = ConfigLoader.load(file);
                GatewayVerticle gateway = new GatewayVerticle(config, launchers);
                String id = vertx.deployVerticle(gateway).await(60, TimeUnit.SECONDS);
                return new TestGateway(vertx, route, id, gateway, adminDir, file, tokenSecret);
            } catch (Exception | Error failed) {
                Files.deleteIfExists(file);
                deleteAdminDir(adminDir);
                throw failed;
            }
        }
    }

    /** Calls the admin API with the gateway's token. */
    public java.net.http.HttpResponse<String> admin(String method, String path) {
        try {
            return http.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + adminPort + path))
                            .method(method, java.net.http.HttpRequest.BodyPublishers.noBody())
                            .header("Authorization", "Bearer " + adminToken)
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " on the admin API failed", e);
        }
    }

    /** Rewrites the config file: {@code edit} gets its text and returns the new one. */
    public void editConfig(java.util.function.UnaryOperator<String> edit) throws java.io.IOException {
        Files.writeString(configFile, edit.apply(Files.readString(configFile)));
    }

    /** GET {@code path} on the gateway, as text. */
    /** The value of the sample {@code name{labels}} on /metrics (labels as the exposition writes them), NaN if absent. */
    public double sample(String name, String labels) {
        String prefix = name + (labels.isEmpty() ? "" : "{" + labels + "}") + " ";
        return get("/metrics")
                .lines()
                .filter(line -> line.startsWith(prefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(prefix.length())))
                .findFirst()
                .orElse(Double.NaN);
    }

    public String get(String path) {
        try {
            return http.send(
                            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (Exception e) {
            throw new AssertionError("GET " + path + " failed", e);
        }
    }

    /**
     * Undeploys: the gateway ends its sessions and stops their backends (or keeps them, when the
     * test asked for onShutdown keep). Runs once.
     */
    @Override
    public void close() throws Exception {
        if (!closed) {
            closed = true;
            try {
                vertx.undeploy(deployment).await(60, TimeUnit.SECONDS);
            } finally {
                Files.deleteIfExists(configFile);
                deleteAdminDir(adminDir);
            }
        }
    }

    private static void deleteAdminDir(Path adminDir) throws java.io.IOException {
        Files.deleteIfExists(adminDir.resolve("admin.key"));
        Files.deleteIfExists(adminDir.resolve("admin-read.key"));
        Files.deleteIfExists(adminDir);
    }
}
