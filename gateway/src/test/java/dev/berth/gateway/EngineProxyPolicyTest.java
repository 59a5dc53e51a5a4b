package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.berth.gateway.config.LauncherKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * deploy/engine-proxy as shipped (nginx with berth-policy.js) between a gateway and the real
 * engine: the gateway's every call passes, its sessions and pool work; what Berth never asks for
 * is refused with 403 and why, and reaches nothing.
 */
@Tag("engine")
class EngineProxyPolicyTest extends RealLauncherTest {

    private Path folder;
    private Process nginx;
    private DockerClient throughProxy;

    EngineProxyPolicyTest() {
        super(LauncherKind.DOCKER);
    }

    @BeforeEach
    void startTheProxy() throws Exception {
        folder = Files.createTempDirectory("berth-engine-proxy-policy");
        Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path deployed = TestGateway.ROOT.resolve("deploy/engine-proxy");
        Files.writeString(
                folder.resolve("nginx.conf"),
                Files.readString(deployed.resolve("nginx.conf")).replace("/run/berth-engine-proxy", folder.toString()));
        Files.copy(deployed.resolve("berth-policy.js"), folder.resolve("berth-policy.js"));
        nginx = new ProcessBuilder(
                        "nginx",
                        "-c",
                        folder.resolve("nginx.conf").toString(),
                        "-p",
                        folder.toString(),
                        "-g",
                        "daemon off;")
                .redirectErrorStream(true)
                .redirectOutput(folder.resolve("nginx.out").toFile())
                .start();
        Path socket = folder.resolve("engine.sock");
        Await.until(() -> Files.exists(socket), 10_000, "nginx made its socket (" + folder + "/nginx.out)");
        // As deploy/engine-proxy/nginx.conf's header says: the socket is the docker group's.
        Command.run(List.of("chgrp", "docker", socket.toString()), 10);
        Command.run(List.of("chmod", "660", socket.toString()), 10);
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost("unix://" + socket)
                .build();
        throughProxy = DockerClientImpl.getInstance(
                config,
                new ApacheDockerHttpClient.Builder()
                        .dockerHost(config.getDockerHost())
                        .build());
    }

    /** Runs before RealLauncherTest's check: the gateway removes its containers while the proxy still answers. */
    @AfterEach
    void stopTheProxy() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        throughProxy.close();
        nginx.destroy();
        nginx.waitFor(10, TimeUnit.SECONDS);
        Command.run(List.of("rm", "-rf", folder.toString()), 10);
    }

    private String proxyHost() {
        return "unix://" + folder.resolve("engine.sock");
    }

    @Test
    void aGatewayBehindTheProxyServesSessionsAndItsPoolWithEveryCallLetThrough() throws Exception {
        gateway = gatewayOn().dockerHost(proxyHost()).route("pool: {size: 1}").start(vertx);
        awaitTrue(
                () -> get("/metrics").contains("berth_pool_idle{route=\"" + gateway.route + "\"} 1.0"),
                30_000,
                "the pool's container is ready");
        try (FrameClient first = connect(null);
                FrameClient second = connect(null)) {
            String one = first.hello().getString("session");
            String two = second.hello().getString("session");
            assertEquals(1, backends.running(gateway.route, one), "its own container");
            assertEquals(1, backends.running(gateway.route, two), "its own container");
            assertTrue(
                    get("/metrics")
                            .contains("berth_pool_claims_total{outcome=\"hit\",route=\"" + gateway.route + "\"} 1.0"),
                    "one came from the pool");
        }
        awaitTrue(() -> get("/health").contains("\"sessions\":0"), 20_000, "both ended, their containers removed");
        gateway.close();
        String calls = Files.readString(folder.resolve("access.log"));
        assertTrue(calls.contains("POST /containers/create") && calls.contains("/stop"), calls);
        assertTrue(!calls.contains(" 403"), "every call the gateway made was let through:\n" + calls);
    }

    @Test
    void whatBerthNeverAsksForIsRefusedWithWhyAndReachesNothing() throws Exception {
        gateway = gatewayOn().dockerHost(proxyHost()).start(vertx); // makes the sessions' network
        assertRefused("it is privileged", () -> create(asBerthMakesIt().withPrivileged(true)));
        assertRefused(
                "HostConfig.Binds is set",
                () -> create(asBerthMakesIt().withBinds(new Bind("/", new Volume("/host")))));
        assertRefused(
                "HostConfig.PidMode is host", () -> create(asBerthMakesIt().withPidMode("host")));
        assertRefused("HostConfig.CapAdd is set", () -> create(asBerthMakesIt().withCapAdd(Capability.SYS_ADMIN)));
        assertRefused(
                "not on a network of Berth's", () -> create(asBerthMakesIt().withNetworkMode("host")));
        assertRefused(
                "a network only as Berth makes",
                () -> throughProxy
                        .createNetworkCmd()
                        .withName("berth-t-not-isolated")
                        .withDriver("bridge")
                        .withLabels(Map.of("berth.managed", "true"))
                        .exec());
        assertTrue(
                engine().listNetworksCmd()
                        .withNameFilter("berth-t-not-isolated")
                        .exec()
                        .isEmpty(),
                "no network made");

        // A container that is not Berth's, made on the engine itself: through the proxy it cannot be touched.
        String other = engine().createContainerCmd(TestGateway.IMAGE)
                .withName("berth-t-not-berths-" + gateway.route)
                .withLabels(Map.of("test.berth.dev/owner", "EngineProxyPolicyTest"))
                .exec()
                .getId();
        try {
            assertRefused(
                    "only containers labelled berth.managed=true",
                    () -> throughProxy.startContainerCmd(other).exec());
            assertRefused(
                    "only containers labelled berth.managed=true",
                    () -> throughProxy.removeContainerCmd(other).withForce(true).exec());
            assertEquals(
                    "created",
                    engine().inspectContainerCmd(other).exec().getState().getStatus(),
                    "neither started nor removed");
        } finally {
            engine().removeContainerCmd(other).withForce(true).exec();
        }
        String refusals = Files.readString(folder.resolve("error.log"));
        assertTrue(refusals.contains("refused POST /containers/create: a container only as Berth makes"), refusals);
    }

    /** A session container's host config as the docker launcher sends it (DockerHostConfig), to spoil one way. */
    private static HostConfig asBerthMakesIt() {
        return HostConfig.newHostConfig()
                .withNetworkMode("berth-sessions")
                .withMemory(64L << 20)
                .withNanoCPUs(500_000_000L)
                .withPidsLimit(64L)
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"));
    }

    private DockerClient engine() {
        return ((DockerTestBackends) backends).docker;
    }

    private void create(HostConfig host) {
        throughProxy
                .createContainerCmd(TestGateway.IMAGE)
                .withName("berth-t-forbidden-" + gateway.route)
                .withUser("65534:65534")
                .withLabels(Map.of("berth.managed", "true", "berth.route", gateway.route))
                .withHostConfig(host)
                .exec();
    }

    private void assertRefused(String why, Executable call) {
        DockerException refused = assertThrows(DockerException.class, call);
        assertEquals(403, refused.getHttpStatus(), refused.getMessage());
        assertTrue(refused.getMessage().contains(why), refused.getMessage());
        assertTrue(
                engine().listContainersCmd()
                        .withShowAll(true)
                        .withNameFilter(List.of("berth-t-forbidden-" + gateway.route))
                        .exec()
                        .isEmpty(),
                "nothing created");
    }
}
