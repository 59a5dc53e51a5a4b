package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.berth.gateway.Command;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.LauncherKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes as an operator applies it, read back and held to what the gateway does: the
 * config in the ConfigMap loads with the gateway's own loader and names the namespace every object
 * is in; the Deployment runs that file, listens and probes where it says, mounts the token secret
 * and a writable folder where its key files are, names each gateway after its pod and gives a drain
 * the time it needs; the Service sends to the port it listens on; the session pods' NetworkPolicy,
 * which the launcher makes, lets in the pods this Deployment runs and no others. kustomization.yaml
 * ({@code kubectl apply -k deploy/kubernetes}) applies every manifest of the folder and makes the
 * token Secret the Deployment mounts, at the file the config reads, from a key file git ignores.
 */
@org.junit.jupiter.api.Tag("kubernetes")
public class KubernetesManifestsTest {

    private static final Path DIR = TestGateway.ROOT.resolve("deploy/kubernetes");
    /** Kustomize's file: it lists the manifests, it is not one. */
    private static final String KUSTOMIZATION = "kustomization.yaml";

    private static List<JsonNode> objects() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<JsonNode> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml"))
                    .filter(f -> !f.getFileName().toString().equals(KUSTOMIZATION))
                    .sorted()
                    .toList()) {
                try (var documents = yaml.readValues(yaml.createParser(file.toFile()), JsonNode.class)) {
                    documents.forEachRemaining(node -> {
                        if (node != null && node.has("kind")) {
                            all.add(node);
                        }
                    });
                }
            }
        }
        return all;
    }

    private static JsonNode kustomization() throws Exception {
        return new ObjectMapper(new YAMLFactory())
                .readTree(DIR.resolve(KUSTOMIZATION).toFile());
    }

    /** The one file source of the kustomization's one Secret: {@code KEY=FILE}, or {@code FILE} whose name is the key. */
    private static String secretSource() throws Exception {
        JsonNode generators = kustomization().path("secretGenerator");
        assertEquals(1, generators.size(), "one Secret made by kustomization.yaml: the token secret");
        JsonNode files = generators.get(0).path("files");
        assertEquals(1, files.size(), "the token Secret holds one file: " + generators.get(0));
        return files.get(0).asText();
    }

    /** The key file the operator makes, relative to the folder. */
    private static String keyFile() throws Exception {
        String source = secretSource();
        return source.substring(source.indexOf('=') + 1);
    }

    private static JsonNode only(List<JsonNode> objects, String kind) {
        List<JsonNode> found = objects.stream()
                .filter(o -> o.path("kind").asText().equals(kind))
                .toList();
        assertEquals(1, found.size(), "one " + kind);
        return found.get(0);
    }

    private static BerthConfig configIn(JsonNode configMap) throws Exception {
        Path file = Files.createTempFile("berth-k8s-", ".yaml");
        try {
            Files.writeString(file, configMap.path("data").path("berth.yaml").asText());
            return ConfigLoader.load(file);
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void theDeploymentRunsTheConfigMapsFileWhereItSaysAndDrainsInTime() throws Exception {
        List<JsonNode> objects = objects();
        BerthConfig config = configIn(only(objects, "ConfigMap"));
        assertEquals(LauncherKind.KUBERNETES, config.launcher());
        String namespace = config.kubernetes().namespace();
        assertEquals(
                namespace,
                only(objects, "Namespace").path("metadata").path("name").asText());
        for (JsonNode object : objects) {
            if (!object.path("kind").asText().equals("Namespace")) {
                assertEquals(
                        namespace,
                        object.path("metadata").path("namespace").asText(),
                        object.path("kind") + " " + object.path("metadata").path("name"));
            }
        }
        JsonNode pod = only(objects, "Deployment").path("spec").path("template").path("spec");
        JsonNode gateway = pod.path("containers").get(0);
        List<String> args = new ArrayList<>();
        gateway.path("args").forEach(arg -> args.add(arg.asText()));
        String configMount = mountOf(pod, gateway, "configMap").toString();
        assertEquals(List.of("--config", configMount + "/berth.yaml", "--gateway-id", "$(POD_NAME)"), args);
        // A Deployment's pod is <name>-<template hash, up to 10>-<5>: the longest is a valid gateway id.
        String longestPod =
                only(objects, "Deployment").path("metadata").path("name").asText() + "-9d7cbf5f4x-x7k2p";
        assertEquals(longestPod, config.withGatewayId(longestPod).sessions().gatewayId());
        assertEquals(
                "metadata.name",
                gateway.path("env")
                        .get(0)
                        .path("valueFrom")
                        .path("fieldRef")
                        .path("fieldPath")
                        .asText());
        assertEquals("0.0.0.0", config.listen().host(), "the Service and the probes reach the pod's address");
        int port = portNamed(gateway, "http");
        assertEquals(config.listen().port(), port);
        assertEquals(
                "/health/ready",
                gateway.path("readinessProbe").path("httpGet").path("path").asText());
        assertEquals(
                "http",
                gateway.path("readinessProbe").path("httpGet").path("port").asText());
        assertEquals(
                "http",
                only(objects, "Service")
                        .path("spec")
                        .path("ports")
                        .get(0)
                        .path("targetPort")
                        .asText());
        assertTrue(
                config.sessions().tokenSecretFile().startsWith(mountOf(pod, gateway, "secret")),
                "the token secret comes from the Secret every gateway shares: "
                        + config.sessions().tokenSecretFile());
        assertTrue(
                config.admin().tokenFile().startsWith(mountOf(pod, gateway, "emptyDir")),
                "the admin tokens are made in a writable folder: "
                        + config.admin().tokenFile());
        long preStop = gateway.path("lifecycle")
                .path("preStop")
                .path("sleep")
                .path("seconds")
                .asLong();
        long grace = pod.path("terminationGracePeriodSeconds").asLong();
        assertTrue(
                grace >= preStop + config.sessions().drainDeadline().toSeconds() + 30,
                "terminationGracePeriodSeconds " + grace
                        + " covers the preStop sleep, the drain and 30 s to keep the sessions");
        assertEquals("berth-gateway", pod.path("serviceAccountName").asText());
    }

    @Test
    void theSessionPodsPolicyTheLauncherMakesLetsInTheseGatewaysOnly() throws Exception {
        JsonNode gatewayLabels = only(objects(), "Deployment")
                .path("spec")
                .path("template")
                .path("metadata")
                .path("labels");
        var sessions = KubernetesPolicies.sessions();
        assertEquals(
                "true", sessions.getSpec().getPodSelector().getMatchLabels().get(EngineLabels.MANAGED_LABEL));
        var from = sessions.getSpec()
                .getIngress()
                .get(0)
                .getFrom()
                .get(0)
                .getPodSelector()
                .getMatchLabels();
        assertTrue(!from.isEmpty());
        from.forEach((label, value) ->
                assertEquals(value, gatewayLabels.path(label).asText(), "the Deployment's pods carry " + label));
        assertTrue(sessions.getSpec().getEgress().isEmpty(), "the session pods reach nothing");
    }

    @Test
    void theKustomizationAppliesEveryManifestInTheFolderInTheConfigsNamespace() throws Exception {
        List<String> manifests;
        try (Stream<Path> files = Files.list(DIR)) {
            manifests = files.map(f -> f.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml") || name.endsWith(".yml"))
                    .filter(name -> !name.equals(KUSTOMIZATION))
                    .sorted()
                    .toList();
        }
        JsonNode kustomization = kustomization();
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(resource -> resources.add(resource.asText()));
        assertEquals(
                manifests,
                resources.stream().sorted().toList(),
                "kustomization.yaml's resources are the folder's manifests, each once");
        assertEquals(
                configIn(only(objects(), "ConfigMap")).kubernetes().namespace(),
                kustomization.path("namespace").asText());
    }

    @Test
    void theKustomizationsSecretIsTheOneTheGatewaysMountAtTheConfigsTokenSecretFile() throws Exception {
        List<JsonNode> objects = objects();
        BerthConfig config = configIn(only(objects, "ConfigMap"));
        JsonNode pod = only(objects, "Deployment").path("spec").path("template").path("spec");
        JsonNode volume = volumeOf(pod, "secret");
        JsonNode kustomization = kustomization();
        JsonNode secret = kustomization.path("secretGenerator").get(0);
        String secretName = volume.path("secret").path("secretName").asText();
        assertEquals(secretName, secret.path("name").asText(), "the Secret the Deployment mounts");
        JsonNode noHash = secret.path("options").has("disableNameSuffixHash")
                ? secret.path("options").path("disableNameSuffixHash")
                : kustomization.path("generatorOptions").path("disableNameSuffixHash");
        assertTrue(
                noHash.asBoolean(),
                "disableNameSuffixHash: kustomize would otherwise name the Secret " + secretName
                        + "-<hash>, which the Deployment does not mount");
        String source = secretSource();
        String key = source.contains("=")
                ? source.substring(0, source.indexOf('='))
                : Path.of(source).getFileName().toString();
        String fileInVolume = key;
        for (JsonNode item : volume.path("secret").path("items")) {
            fileInVolume =
                    item.path("key").asText().equals(key) ? item.path("path").asText() : fileInVolume;
        }
        assertEquals(
                mountOf(pod, pod.path("containers").get(0), "secret").resolve(fileInVolume),
                config.sessions().tokenSecretFile(),
                "sessions.tokenSecretFile is the Secret's key " + key + " where the Deployment mounts it");
    }

    @Test
    void theGatewaysUserCanReadTheTokenSecretTheKubeletWrites() throws Exception {
        JsonNode pod =
                only(objects(), "Deployment").path("spec").path("template").path("spec");
        JsonNode context = pod.path("securityContext");
        JsonNode containerUser =
                pod.path("containers").get(0).path("securityContext").path("runAsUser");
        long user = containerUser.isMissingNode() ? context.path("runAsUser").asLong() : containerUser.asLong();
        int mode = volumeOf(pod, "secret").path("secret").path("defaultMode").asInt(0644);
        // The kubelet writes a Secret volume's files as root:root with defaultMode; with fsGroup they
        // are that group's, group-readable, and the group is among the container's
        // (kubernetes/kubernetes#57923).
        assertTrue(
                user == 0 || context.has("fsGroup") || (mode & 0004) != 0,
                "uid " + user + " cannot read a root-owned secret of mode 0" + Integer.toOctalString(mode)
                        + ": set the pod's fsGroup");
    }

    @Test
    void theTokenKeyFileIsNeverCommitted() throws Exception {
        String file =
                TestGateway.ROOT.relativize(DIR.resolve(keyFile()).normalize()).toString();
        Command.Result git;
        try {
            git = Command.run(List.of("git", "-C", TestGateway.ROOT.toString(), "check-ignore", "-q", file), 30);
        } catch (IOException noGit) {
            git = null;
        }
        if (git != null && git.status() != 128) {
            // 0: ignored; 1: not ignored, or tracked (check-ignore reports a tracked file as not ignored)
            assertEquals(0, git.status(), file + " is not git-ignored, or is committed: a key checked in is no secret");
        } else { // no git or no repository (a source archive): the line .gitignore should hold
            List<String> lines = Files.readAllLines(TestGateway.ROOT.resolve(".gitignore")).stream()
                    .map(String::strip)
                    .toList();
            assertTrue(lines.contains(file) || lines.contains("/" + file), file + " is not in .gitignore");
        }
    }

    /**
     * The calls in {@code calls} ({@code METHOD /path?query}, as {@link TestKubelet#LAUNCHER_CALLS}
     * records them) that the Role in rbac.yaml does not allow, each with the rule it would need.
     */
    public static List<String> notAllowedByTheRole(java.util.Collection<String> calls) throws Exception {
        JsonNode role = objects().stream()
                .filter(o -> o.path("kind").asText().equals("Role"))
                .findFirst()
                .orElseThrow();
        List<String> missing = new ArrayList<>();
        for (String call : new java.util.TreeSet<>(calls)) {
            String needs = ruleFor(call);
            String[] parts = needs.split(" ");
            boolean allowed = false;
            for (JsonNode rule : role.path("rules")) {
                allowed |= contains(rule.path("apiGroups"), parts[0].equals("core") ? "" : parts[0])
                        && contains(rule.path("resources"), parts[1])
                        && contains(rule.path("verbs"), parts[2]);
            }
            if (!allowed && missing.stream().noneMatch(seen -> seen.startsWith(needs + " "))) {
                missing.add(needs + " (" + call + ")");
            }
        }
        return missing;
    }

    /** What the Role in rbac.yaml grants, as {@code GROUP RESOURCE VERB} lines ({@code core} for the core group). */
    public static java.util.SortedSet<String> granted() throws Exception {
        java.util.SortedSet<String> rules = new java.util.TreeSet<>();
        for (JsonNode object : objects()) {
            if (object.path("kind").asText().equals("Role")) {
                for (JsonNode rule : object.path("rules")) {
                    for (JsonNode group : rule.path("apiGroups")) {
                        for (JsonNode resource : rule.path("resources")) {
                            for (JsonNode verb : rule.path("verbs")) {
                                rules.add((group.asText().isEmpty() ? "core" : group.asText()) + " " + resource.asText()
                                        + " " + verb.asText());
                            }
                        }
                    }
                }
            }
        }
        return rules;
    }

    /** The distinct {@code GROUP RESOURCE VERB} rules {@code calls} need, sorted. */
    public static java.util.SortedSet<String> rulesFor(java.util.Collection<String> calls) {
        java.util.SortedSet<String> rules = new java.util.TreeSet<>();
        calls.forEach(call -> rules.add(ruleFor(call)));
        return rules;
    }

    /** {@code GROUP RESOURCE VERB} of an API call: {@code core pods create} for {@code POST /api/v1/namespaces/n/pods}. */
    static String ruleFor(String call) {
        String method = call.substring(0, call.indexOf(' '));
        String uri = call.substring(call.indexOf(' ') + 1);
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        boolean watch = uri.contains("watch=true");
        List<String> segments = List.of(path.replaceFirst("^/", "").split("/"));
        String group = segments.get(0).equals("api") ? "core" : segments.get(1);
        int at = segments.indexOf("namespaces") + 2; // the resource after namespaces/NAME
        String resource = segments.get(at);
        boolean named = segments.size() > at + 1;
        if (segments.size() > at + 2) {
            resource += "/" + segments.get(at + 2); // a subresource: pods/status
        }
        String verb = switch (method) {
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> named ? "delete" : "deletecollection";
            default -> watch ? "watch" : named ? "get" : "list";
        };
        return group + " " + resource + " " + verb;
    }

    private static boolean contains(JsonNode list, String value) {
        for (JsonNode item : list) {
            if (item.asText().equals(value) || item.asText().equals("*")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aCallIsReadAsTheRuleItNeeds() {
        assertEquals("core pods create", ruleFor("POST /api/v1/namespaces/berth/pods"));
        assertEquals(
                "core pods watch",
                ruleFor("GET /api/v1/namespaces/berth/pods?labelSelector=berth.managed%3Dtrue&watch=true"));
        assertEquals("core pods list", ruleFor("GET /api/v1/namespaces/berth/pods?labelSelector=x"));
        assertEquals("core pods get", ruleFor("GET /api/v1/namespaces/berth/pods/p1"));
        assertEquals("core pods update", ruleFor("PUT /api/v1/namespaces/berth/pods/p1"));
        assertEquals("core pods/status patch", ruleFor("PATCH /api/v1/namespaces/berth/pods/p1/status"));
        assertEquals(
                "networking.k8s.io networkpolicies delete",
                ruleFor("DELETE /apis/networking.k8s.io/v1/namespaces/berth/networkpolicies/berth-egress-r"));
    }

    private static int portNamed(JsonNode container, String name) {
        for (JsonNode port : container.path("ports")) {
            if (port.path("name").asText().equals(name)) {
                return port.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no port named " + name);
    }

    private static JsonNode volumeOf(JsonNode pod, String type) {
        List<JsonNode> found = new ArrayList<>();
        pod.path("volumes").forEach(volume -> {
            if (volume.has(type)) {
                found.add(volume);
            }
        });
        assertEquals(1, found.size(), "one " + type + " volume");
        return found.get(0);
    }

    /** Where the container mounts the pod's volume of {@code type} (configMap, secret, emptyDir). */
    private static Path mountOf(JsonNode pod, JsonNode container, String type) {
        for (JsonNode volume : pod.path("volumes")) {
            if (volume.has(type)) {
                for (JsonNode mount : container.path("volumeMounts")) {
                    if (mount.path("name").asText().equals(volume.path("name").asText())
                            && !(type.equals("emptyDir")
                                    && mount.path("mountPath").asText().equals("/tmp"))) {
                        return Path.of(mount.path("mountPath").asText());
                    }
                }
            }
        }
        throw new AssertionError("no " + type + " volume mounted");
    }
}
