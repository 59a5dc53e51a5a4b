package dev.berth.gateway.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The whole gateway configuration, immutable and already validated. Built only by
 * {@link ConfigLoader}; a reload builds a new one and swaps it, a bad file keeps the old.
 *
 * @param source the file it was read from, named in every error
 * @param text the file's text as it was read, for the admin API (its sha-256 is the config's version)
 * @param workingDirectory where process-launched handlers run: the folder holding the file
 * @param auth who the user is, or null when sessions belong to no one
 * @param log what the gateway logs, how, and which session logs it keeps
 * @param kubernetes where the kubernetes launcher runs sessions ({@link KubernetesConfig#DEFAULT} when unset)
 */
public record BerthConfig(
        Path source,
        String text,
        Path workingDirectory,
        ListenConfig listen,
        LauncherKind launcher,
        DockerConfig docker,
        KubernetesConfig kubernetes,
        SessionsConfig sessions,
        AdminConfig admin,
        AuthConfig auth,
        LogConfig log,
        List<RouteConfig> routes) {

    /** The route called {@code name}, if the configuration has one. */
    public java.util.Optional<RouteConfig> route(String name) {
        return routes.stream().filter(route -> route.name().equals(name)).findFirst();
    }

    /** The config's version: the first 16 hex digits of its text's sha-256, as the admin API and the log show it. */
    public String version() {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * The same configuration for the gateway called {@code id} (the {@code --gateway-id} flag: a
     * Kubernetes Deployment names each gateway after its pod); an {@link IllegalArgumentException}
     * when it is no valid gateway id.
     */
    public BerthConfig withGatewayId(String id) {
        if (!RoutesLoader.ROUTE_NAME.matcher(id).matches()) {
            throw new IllegalArgumentException(
                    "--gateway-id '" + id
                            + "' is not a valid gateway id: use 1-32 lower-case letters, digits or '-', starting and ending with a letter or digit, e.g. gw-1");
        }
        return new BerthConfig(
                source,
                text,
                workingDirectory,
                listen,
                launcher,
                docker,
                kubernetes,
                sessions.withGatewayId(id),
                admin,
                auth,
                log,
                routes);
    }

    /** The same configuration listening on another port (the {@code --port} flag). */
    public BerthConfig withListenPort(int port) {
        return new BerthConfig(
                source,
                text,
                workingDirectory,
                listen.withPort(port),
                launcher,
                docker,
                kubernetes,
                sessions,
                admin,
                auth,
                log,
                routes);
    }
}
