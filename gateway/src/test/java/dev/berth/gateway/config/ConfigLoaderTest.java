package dev.berth.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad config file stops the gateway with the file, the key, the problem and the fix. */
class ConfigLoaderTest {

    private static final String VALID_ROUTE = """
      routes:
        - name: listings
          path: /ws
          docker: {image: "berth/handler:0.1.0"}
          process: {command: [java, -jar, handler.jar]}
      """;

    @TempDir
    Path dir;

    @Test
    void defaultConfigLoadsWithDocumentedValues() {
        BerthConfig config = ConfigLoader.load(TestGateway.ROOT.resolve("config/berth.yaml"));
        assertEquals(LauncherKind.AUTO, config.launcher());
        assertEquals(8080, config.listen().port());
        assertEquals("127.0.0.1", config.listen().host());
        RouteConfig route = config.routes().get(0);
        assertEquals("/ws", route.path());
        assertEquals("berth/handler:0.1.0", route.image());
        assertEquals(128L << 20, route.limits().memoryBytes());
        assertEquals(Duration.ofSeconds(30), route.timeouts().grace());
        assertEquals(Duration.ofMinutes(30), route.timeouts().idle());
        assertEquals(Duration.ofHours(12), route.timeouts().maxLifetime());
        assertEquals(Duration.ofSeconds(25), route.timeouts().keepalive());
        assertEquals(8L << 20, route.buffer().maxBytes());
        assertEquals(10_000, route.buffer().maxFrames());
        assertEquals(
                SessionsConfig.OnShutdown.KEEP,
                config.sessions().onShutdown(),
                "a restart loses no session by default");
        assertEquals(Duration.ofSeconds(60), config.docker().apiTimeout());
        assertEquals(TestGateway.ROOT.resolve("config"), config.workingDirectory());
        assertEquals(Duration.ofSeconds(30), config.sessions().drainDeadline());
        assertEquals("127.0.0.1", config.admin().host(), "the admin API is on loopback only by default");
        assertEquals(8081, config.admin().port());
        assertEquals(
                TestGateway.ROOT.resolve("config/berth-admin.key"),
                config.admin().tokenFile());
        assertEquals(
                Runtime.getRuntime().availableProcessors(), config.listen().eventLoops(), "one data loop per core");
    }

    @Test
    void aCanaryAndADrainPolicyAreReadAndTheirMistakesNamed() throws Exception {
        RouteConfig route = ConfigLoader.load(write(VALID_ROUTE.replace(
                        "path: /ws",
                        "path: /ws\n    version: 1\n    drain: 10m\n"
                                + "    canary: {version: 2, image: \"berth/handler:2\", weight: 25}")))
                .routes()
                .get(0);
        assertEquals(Duration.ofMinutes(10), route.drainDeadline());
        assertEquals(25, route.canary().weightPercent());
        assertEquals(20, route.canary().brake().minSessions(), "the brake's defaults");
        RouteConfig canary = route.asCanary();
        assertEquals("2", canary.version());
        assertEquals("berth/handler:2", canary.image());
        assertEquals(route.command(), canary.command(), "no canary command: the route's");
        assertTrue(route.runs("1") && route.runs("2") && !route.runs("3"));
        assertEquals(
                null, ConfigLoader.load(write(VALID_ROUTE)).routes().get(0).drainDeadline(), "drain: wait by default");

        String same = failure(write(
                VALID_ROUTE.replace("path: /ws", "path: /ws\n    version: 1\n    canary: {version: 1, image: x}")));
        assertTrue(same.contains("routes[0].canary.version") && same.contains("route's own version"), same);
        String noImage = failure(write(VALID_ROUTE.replace("path: /ws", "path: /ws\n    canary: {version: 2}")));
        assertTrue(noImage.contains("routes[0].canary.image") && noImage.contains("Fix"), noImage);
        String drain = failure(write(VALID_ROUTE.replace("path: /ws", "path: /ws\n    drain: later")));
        assertTrue(drain.contains("routes[0].drain") && drain.contains("neither 'wait' nor a duration"), drain);
        String weight = failure(
                write(VALID_ROUTE.replace("path: /ws", "path: /ws\n    canary: {version: 2, image: x, weight: 101}")));
        assertTrue(weight.contains("routes[0].canary.weight"), weight);
    }

    @Test
    void adminAndDrainMistakesNameTheirKeys() throws Exception {
        String port = failure(write(VALID_ROUTE + "admin: {port: 80801}\n"));
        assertTrue(port.contains("key 'admin.port'"), port);
        String drain = failure(write(VALID_ROUTE + "sessions: {drainDeadline: soon}\n"));
        assertTrue(drain.contains("key 'sessions.drainDeadline': 'soon' is not a duration"), drain);
        String loops = failure(write(VALID_ROUTE + "listen: {eventLoops: 0}\n"));
        assertTrue(loops.contains("key 'listen.eventLoops'"), loops);
    }

    @Test
    void trustedProxiesAndAuthAreReadAndTheirMistakesNamed() throws Exception {
        BerthConfig config = ConfigLoader.load(write(VALID_ROUTE
                + "listen: {trustedProxies: [\"10.0.0.0/8\", \"::1\"], proxyProtocol: true}\n"
                + "auth: {userHeader: X-Auth-Request-User}\n"));
        assertEquals(
                List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1/128")),
                config.listen().trustedProxies());
        assertTrue(config.listen().proxyProtocol());
        assertEquals(new AuthConfig(AuthConfig.From.HEADER, "X-Auth-Request-User", null, null), config.auth());
        assertEquals(null, ConfigLoader.load(write(VALID_ROUTE)).auth(), "no auth unless set");
        String cidr = failure(write(VALID_ROUTE + "listen: {trustedProxies: [\"10.0.0.0/33\"]}\n"));
        assertTrue(
                cidr.contains("key 'listen.trustedProxies[0]': '10.0.0.0/33' is not an address block: the prefix"
                        + " length must be 0 to 32"),
                cidr);
        String name = failure(write(VALID_ROUTE + "listen: {trustedProxies: [proxy.example.com]}\n"));
        assertTrue(name.contains("is not an IP address") && name.contains("Fix: write address/prefix"), name);
        String header = failure(write(VALID_ROUTE + "auth: {userHeader: \"X User\"}\n"));
        assertTrue(header.contains("key 'auth.userHeader': 'X User' is not a header name"), header);
        String jwt = failure(write(VALID_ROUTE + "auth: {from: jwt}\n"));
        assertTrue(jwt.contains("key 'auth.jwt': is missing while auth.from is jwt"), jwt);
        String jwks = failure(write(VALID_ROUTE + "auth: {from: jwt, jwt: {jwks: missing-jwks.json}}\n"));
        assertTrue(jwks.contains("key 'auth.jwt.jwks'") && jwks.contains("cannot be read"), jwks);
        String sessionFor = failure(write(VALID_ROUTE.replace("path: /ws", "path: /ws\n    sessionFor: tab")));
        assertTrue(sessionFor.contains("sessionFor': 'tab' is not a valid choice"), sessionFor);
    }

    @Test
    void aPoolIsAFloorAndACeilingAndTheOlderSizeIsBoth() throws Exception {
        RouteConfig.Pool none = pool("");
        assertEquals(RouteConfig.Pool.NONE, none, "no pool unless set");
        assertEquals(new RouteConfig.Pool(3, 3, RouteConfig.Pool.DEFAULT_DECAY), pool("pool: {size: 3}"));
        assertEquals(new RouteConfig.Pool(2, 12, Duration.ofMinutes(5)), pool("pool: {min: 2, max: 12, decay: 5m}"));
        assertEquals(new RouteConfig.Pool(4, 4, RouteConfig.Pool.DEFAULT_DECAY), pool("pool: {min: 4}"), "max: min");
        assertEquals(new RouteConfig.Pool(0, 8, RouteConfig.Pool.DEFAULT_DECAY), pool("pool: {max: 8}"), "min: 0");

        poolRefused(
                "pool: {size: 2, max: 10}",
                "key 'routes[0].pool.size': is set together with routes[0].pool.min or .max",
                "Fix: write either routes[0].pool.size: N (a fixed pool) or");
        poolRefused(
                "pool: {min: 5, max: 3}",
                "key 'routes[0].pool.max': is 3, below routes[0].pool.min (5)",
                "raise routes[0].pool.max to at least 5");
        poolRefused("pool: {minimum: 2}", "key 'routes[0].pool.minimum': unknown key");
        poolRefused("pool: {max: -1}", "key 'routes[0].pool.max'");
        poolRefused("pool: {max: 4, decay: 0s}", "key 'routes[0].pool.decay'");
    }

    /** A route with {@code line} is refused with a message holding every one of {@code parts}. */
    private void poolRefused(String line, String... parts) throws Exception {
        String message = failure(write(VALID_ROUTE + "    " + line + "\n"));
        for (String part : parts) {
            assertTrue(message.contains(part), message);
        }
    }

    private RouteConfig.Pool pool(String line) throws Exception {
        String yaml = line.isEmpty() ? VALID_ROUTE : VALID_ROUTE + "    " + line + "\n";
        return ConfigLoader.load(write(yaml)).routes().get(0).pool();
    }

    @Test
    void fixedLauncherNeedsItsBackendsAsHostAndPortAndNoPool() throws Exception {
        String route = "launcher: fixed\nroutes:\n  - name: bench\n    path: /ws\n";
        assertTrue(
                failure(write(route)).contains("key 'routes[0].fixed.backends': is missing while launcher is 'fixed'"),
                failure(write(route)));
        String notHostPort = failure(write(route + "    fixed: {backends: [\"127.0.0.1\"]}\n"));
        assertTrue(
                notHostPort.contains("key 'routes[0].fixed.backends[0]': '127.0.0.1' is not host:port"), notHostPort);
        String pooled = failure(write(route + "    fixed: {backends: [\"127.0.0.1:9001\"]}\n    pool: {size: 2}\n"));
        assertTrue(pooled.contains("key 'routes[0].pool.size': is 2 while launcher is 'fixed'"), pooled);
        String demand =
                failure(write(route + "    fixed: {backends: [\"127.0.0.1:9001\"]}\n    pool: {min: 1, max: 4}\n"));
        assertTrue(demand.contains("key 'routes[0].pool.max': is 4 while launcher is 'fixed'"), demand);
        BerthConfig fixed =
                ConfigLoader.load(write(route + "    fixed: {backends: [\"127.0.0.1:9001\", \"[::1]:9002\"]}\n"));
        assertEquals(
                List.of(new RouteConfig.Endpoint("127.0.0.1", 9001), new RouteConfig.Endpoint("::1", 9002)),
                fixed.routes().get(0).fixedBackends());
    }

    @Test
    void missingFileSaysWhichAndHowToFix() {
        String message = failure(dir.resolve("nope.yaml"));
        assertTrue(message.contains("nope.yaml: file not found"), message);
        assertTrue(message.contains("--config"), message);
    }

    @Test
    void brokenYamlNamesTheLine() throws Exception {
        String message = failure(write("listen:\n  port: [8080\n"));
        assertTrue(message.contains("not valid YAML at line"), message);
    }

    @Test
    void aKeyGivenTwiceIsRefusedAtAnyDepthNamingBothLines() throws Exception {
        // The report: a route with two env keys started on the second, empty one.
        String env = failure(write(VALID_ROUTE + "    env: {BERTH_FEED_PER_SECOND: \"0\"}\n    env:\n"));
        assertTrue(env.contains("key 'routes[0].env': is given twice, on line 6 and on line 7"), env);
        assertTrue(env.contains("Fix: remove one of them"), env);
        String top = failure(write("launcher: process\n" + VALID_ROUTE + "launcher: docker\n"));
        assertTrue(top.contains("key 'launcher': is given twice, on line 1 and on line 7"), top);
        String listen = failure(write("listen:\n  port: 8080\n  host: 0.0.0.0\n  port: 9090\n" + VALID_ROUTE));
        assertTrue(listen.contains("key 'listen.port': is given twice, on line 2 and on line 4"), listen);
        String inEnv = failure(write(VALID_ROUTE + "    env:\n      A: x\n      A: y\n"));
        assertTrue(inEnv.contains("key 'routes[0].env.A': is given twice, on line 7 and on line 8"), inEnv);
        String flow = failure(write(VALID_ROUTE.replace("docker: {image:", "docker: {port: 1, port: 2, image:")));
        assertTrue(flow.contains("key 'routes[0].docker.port': is given twice, on line 4 and on line 4"), flow);
    }

    @Test
    void aReloadRefusesAKeyGivenTwice() throws Exception {
        BerthConfig current = ConfigLoader.load(write(VALID_ROUTE));
        String message = assertThrows(
                        ConfigException.class,
                        () -> ConfigReloader.successor(current, VALID_ROUTE + "    env: {A: x}\n    env:\n"))
                .getMessage();
        assertTrue(message.startsWith(current.source().toString()), message);
        assertTrue(message.contains("key 'routes[0].env': is given twice, on line 6 and on line 7"), message);
    }

    @Test
    void misspelledKeyIsRejectedWithTheKnownKeys() throws Exception {
        String message = failure(write(VALID_ROUTE + "    timeouts: {graec: 5s}\n"));
        assertTrue(message.contains("key 'routes[0].timeouts.graec': unknown key"), message);
        assertTrue(message.contains("grace, idle, keepalive, maxLifetime"), message);
    }

    @Test
    void unknownShutdownPolicyNamesTheChoices() throws Exception {
        String message = failure(write("sessions: {onShutdown: vanish}\n" + VALID_ROUTE));
        assertTrue(message.contains("key 'sessions.onShutdown': 'vanish' is not a valid choice"), message);
        assertTrue(message.contains("use one of keep, end"), message);
    }

    @Test
    void badDurationNamesTheKeyAndTheAcceptedForms() throws Exception {
        String message = failure(write(VALID_ROUTE + "    timeouts: {ready: soon}\n"));
        assertTrue(message.contains("key 'routes[0].timeouts.ready': 'soon' is not a duration"), message);
        assertTrue(message.contains("Fix: write a number with a unit"), message);
    }

    @Test
    void portOutOfRangeIsRejected() throws Exception {
        String message = failure(write("listen: {port: 70000}\n" + VALID_ROUTE));
        assertTrue(message.contains("key 'listen.port': 70000 is out of range"), message);
    }

    @Test
    void unknownLauncherListsTheChoices() throws Exception {
        String message = failure(write("launcher: nomad\n" + VALID_ROUTE));
        assertTrue(message.contains("key 'launcher': 'nomad' is not a valid choice"), message);
        assertTrue(message.contains("auto, docker, swarm, kubernetes, process, fixed"), message);
    }

    @Test
    void theKubernetesLauncherRunsPodsInBerthByDefaultAndItsMistakesAreNamed() throws Exception {
        BerthConfig defaults = ConfigLoader.load(write("launcher: kubernetes\n" + VALID_ROUTE));
        assertEquals(LauncherKind.KUBERNETES, defaults.launcher());
        assertEquals(new KubernetesConfig("berth", null), defaults.kubernetes());
        assertEquals(
                new KubernetesConfig("sessions", "https://10.0.0.1:6443"),
                ConfigLoader.load(write("launcher: kubernetes\nkubernetes: {namespace: sessions, master:"
                                + " \"https://10.0.0.1:6443\"}\n" + VALID_ROUTE))
                        .kubernetes());

        String elsewhere = failure(write("launcher: docker\nkubernetes: {namespace: berth}\n" + VALID_ROUTE));
        assertTrue(elsewhere.contains("key 'kubernetes': is set while launcher is 'docker'"), elsewhere);
        assertTrue(elsewhere.contains("set launcher: kubernetes, or remove kubernetes"), elsewhere);
        String namespace = failure(write("launcher: kubernetes\nkubernetes: {namespace: Berth_1}\n" + VALID_ROUTE));
        assertTrue(namespace.contains("key 'kubernetes.namespace': 'Berth_1' is not a namespace name"), namespace);
        String master = failure(write("launcher: kubernetes\nkubernetes: {master: \"10.0.0.1:6443\"}\n" + VALID_ROUTE));
        assertTrue(master.contains("key 'kubernetes.master': '10.0.0.1:6443' is not an API server URL"), master);
        String image = failure(write("launcher: kubernetes\n"
                + VALID_ROUTE.replace("docker: {image: \"berth/handler:0.1.0\"}", "docker: {port: 8080}")));
        assertTrue(image.contains("key 'routes[0].docker.image': is missing while launcher is 'kubernetes'"), image);
        String versioned = VALID_ROUTE.replace("path: /ws\n", "path: /ws\n    version: 1.2+b7\n");
        String version = failure(write("launcher: kubernetes\n" + versioned));
        assertTrue(version.contains("key 'routes[0].version': '1.2+b7' cannot be a Kubernetes label value"), version);
        assertTrue(version.contains("e.g. 0.2.0"), version);
        assertEquals(
                "1.2+b7",
                ConfigLoader.load(write("launcher: docker\n" + versioned))
                        .routes()
                        .get(0)
                        .version(),
                "a docker label takes any version");
    }

    @Test
    void aRouteNameOrGatewayIdEndingInAHyphenIsRefusedForNoEngineLabelTakesIt() throws Exception {
        String route = failure(write("launcher: docker\n" + VALID_ROUTE.replace("name: listings", "name: listings-")));
        assertTrue(route.contains("key 'routes[0].name': 'listings-' is not a valid route name"), route);
        assertTrue(route.contains("ending with a letter or digit"), route);
        String gateway = failure(write("launcher: docker\nsessions: {gatewayId: gw-}\n" + VALID_ROUTE));
        assertTrue(gateway.contains("key 'sessions.gatewayId': 'gw-' is not a valid gateway id"), gateway);
    }

    @Test
    void dockerLauncherNeedsAnImage() throws Exception {
        String message = failure(write("launcher: docker\nroutes:\n  - {name: a, path: /ws}\n"));
        assertTrue(message.contains("key 'routes[0].docker.image': is missing while launcher is 'docker'"), message);
        assertTrue(message.contains("build-image.sh"), message);
    }

    @Test
    void twoRoutesCannotShareAPath() throws Exception {
        String message = failure(write("launcher: process\nroutes:\n"
                + "  - {name: a, path: /ws, process: {command: [x]}}\n"
                + "  - {name: b, path: /ws, process: {command: [x]}}\n"));
        assertTrue(message.contains("key 'routes[1].path': '/ws' is used by two routes"), message);
    }

    @Test
    void reservedPathIsRefused() throws Exception {
        String message =
                failure(write("launcher: process\nroutes:\n  - {name: a, path: /metrics, process: {command: [x]}}\n"));
        assertTrue(message.contains("key 'routes[0].path': '/metrics' cannot be a websocket path"), message);
    }

    @Test
    void emptyFileIsRefused() throws Exception {
        assertTrue(failure(write("")).contains("the file is empty"));
    }

    @Test
    void routeEnvMayNotSetWhatTheGatewaySets() throws Exception {
        for (String reserved : new String[] {
            "BERTH_SESSION", "BERTH_POOL", "BERTH_VERSION", "BERTH_PORT", "BERTH_HOST", "BERTH_IDLE_GRACE_MS"
        }) {
            String message = failure(write(VALID_ROUTE + "    env: {" + reserved + ": mine}\n"));
            assertTrue(
                    message.contains("key 'routes[0].env." + reserved + "': is set by the gateway for every session"),
                    message);
        }
    }

    @Test
    void routeEnvAndSandboxAreRead() throws Exception {
        BerthConfig config = ConfigLoader.load(write("""
        routes:
          - name: listings
            path: /ws
            docker: {image: "berth/handler:0.1.0", egress: open, user: "1000", readOnlyRootFilesystem: false}
            process: {command: [java, -jar, handler.jar]}
            env: {BERTH_FEED_PER_SECOND: "0"}
        """));
        RouteConfig route = config.routes().get(0);
        assertEquals(java.util.Map.of("BERTH_FEED_PER_SECOND", "0"), route.env());
        assertEquals(new RouteConfig.Sandbox(RouteConfig.Egress.OPEN, "1000", false, 16L << 20), route.sandbox());
    }

    @Test
    void theSandboxIsOnByDefault() {
        RouteConfig route = ConfigLoader.load(TestGateway.ROOT.resolve("config/berth.yaml"))
                .routes()
                .get(0);
        assertEquals(new RouteConfig.Sandbox(RouteConfig.Egress.NONE, "65534:65534", true, 16L << 20), route.sandbox());
    }

    @Test
    void aMessageLimitBelowTheFrameLimitNamesBoth() throws Exception {
        String message = failure(write("listen: {maxFrameSize: 1m, maxMessageSize: 64k}\n" + VALID_ROUTE));
        assertTrue(message.contains("key 'listen.maxMessageSize': is smaller than listen.maxFrameSize"), message);
    }

    @Test
    void theSwarmLauncherDialsTasksOnThisNodeByDefaultAndItsMistakesAreNamed() throws Exception {
        DockerConfig.Swarm defaults = ConfigLoader.load(write("launcher: swarm\n" + VALID_ROUTE))
                .docker()
                .swarm();
        assertEquals(new DockerConfig.Swarm("berth-swarm", DockerConfig.Dial.TASK), defaults);

        String internal = failure(write("launcher: swarm\ndocker: {swarm: {dial: published}}\n" + VALID_ROUTE));
        assertTrue(
                internal.contains("key 'routes[0].docker.egress': is none while docker.swarm.dial is published"),
                internal);
        assertTrue(internal.contains("set routes[0].docker.egress: open, or docker.swarm.dial: task"), internal);
        DockerConfig.Swarm published = ConfigLoader.load(write("launcher: swarm\ndocker: {swarm: {dial: published}}\n"
                        + VALID_ROUTE.replace(
                                "docker: {image: \"berth/handler:0.1.0\"}",
                                "docker: {image: \"berth/handler:0.1.0\", egress: open}")))
                .docker()
                .swarm();
        assertEquals(DockerConfig.Dial.PUBLISHED, published.dial());

        String elsewhere = failure(write("launcher: docker\ndocker: {swarm: {dial: task}}\n" + VALID_ROUTE));
        assertTrue(elsewhere.contains("key 'docker.swarm': is set while launcher is 'docker'"), elsewhere);
        String dial = failure(write("launcher: swarm\ndocker: {swarm: {dial: overlay}}\n" + VALID_ROUTE));
        assertTrue(dial.contains("docker.swarm.dial"), dial);
    }

    @Test
    void anOriginMustBeSchemeHostAndPort() throws Exception {
        String message = failure(write("listen: {allowedOrigins: [\"app.example.com\"]}\n" + VALID_ROUTE));
        assertTrue(message.contains("'app.example.com' is not an origin"), message);
        assertTrue(message.contains("scheme://host[:port]"), message);
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private static String failure(Path file) {
        String message = assertThrows(ConfigException.class, () -> ConfigLoader.load(file))
                .getMessage();
        assertTrue(message.startsWith(file.toString()), "names the file first: " + message);
        return message;
    }
}
