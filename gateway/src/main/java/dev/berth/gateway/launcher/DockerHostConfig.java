package dev.berth.gateway.launcher;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import java.util.List;
import java.util.Map;

/** A session container's sandbox and network, in the Docker engine's terms. */
final class DockerHostConfig {

    private DockerHostConfig() {}

    static HostConfig of(SandboxSpec sandbox, String network) {
        HostConfig host = HostConfig.newHostConfig()
                .withNetworkMode(network)
                .withMemory(sandbox.memoryBytes())
                .withMemorySwap(sandbox.memoryBytes())
                .withNanoCPUs(sandbox.nanoCpus())
                .withPidsLimit(sandbox.pids())
                .withCapDrop(Capability.valueOf(SandboxSpec.DROPPED_CAPABILITIES))
                .withSecurityOpts(List.of("no-new-privileges"))
                .withReadonlyRootfs(sandbox.readOnlyRoot());
        if (sandbox.readOnlyRoot()) {
            host.withTmpFs(Map.of(SandboxSpec.SCRATCH, "rw,noexec,nosuid,nodev,size=" + sandbox.tmpfsBytes()));
        }
        return host;
    }
}
