package dev.berth.gateway.edge;

import java.util.Locale;

/**
 * A request as its client made it, which behind a trusted proxy is not what the gateway's socket
 * sees: the client's address, whether the page was served over https, and the host (and port) it
 * asked for. Made by {@link TrustedProxies}.
 *
 * @param client the client's address
 * @param via the trusted proxy the request came through, or null when it came directly
 * @param https whether the client reached the site over TLS (the cookie is then Secure)
 * @param host the host the client asked for, lower case, with a port when one is known
 * @param portKnown false when a proxy forwarded the host without its port and no X-Forwarded-Port:
 *     then only the origin's scheme and host name can be held to it
 */
record PublicView(String client, String via, boolean https, String host, boolean portKnown) {

    /** Whether a browser page of {@code origin} ({@code scheme://host[:port]}, lower case) is this site. */
    boolean isOrigin(String origin) {
        if (host == null) {
            return false;
        }
        String scheme = https ? "https://" : "http://";
        if (!origin.startsWith(scheme)) {
            return false;
        }
        String originHost = withoutDefaultPort(origin.substring(scheme.length()));
        String ownHost = withoutDefaultPort(host.toLowerCase(Locale.ROOT));
        return portKnown ? originHost.equals(ownHost) : hostName(originHost).equals(hostName(ownHost));
    }

    private String withoutDefaultPort(String hostAndPort) {
        String defaultPort = https ? ":443" : ":80";
        return hostAndPort.endsWith(defaultPort)
                ? hostAndPort.substring(0, hostAndPort.length() - defaultPort.length())
                : hostAndPort;
    }

    /** {@code host[:port]} without the port; an IPv6 literal keeps its brackets. */
    private static String hostName(String hostAndPort) {
        int colon = hostAndPort.lastIndexOf(':');
        return colon > hostAndPort.lastIndexOf(']') ? hostAndPort.substring(0, colon) : hostAndPort;
    }

    @Override
    public String toString() {
        return client + (via == null ? "" : " (via " + via + ")");
    }
}
