package dev.berth.gateway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.berth.gateway.TestGateway;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigLoader;
import dev.berth.gateway.config.LauncherKind;
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
 * which the launcher makes, lets in the pods this Deployment runs and no others.
 */
public class KubernetesManifestsTest {

    private static final Path DIR = TestGateway.ROOT.resolve("deploy/kubernetes");

    private static List<JsonNode> objects() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        List<JsonNode> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path file :
                    files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
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
