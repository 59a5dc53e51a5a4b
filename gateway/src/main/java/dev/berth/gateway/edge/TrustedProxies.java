package dev.berth.gateway.edge;

import dev.berth.gateway.config.Cidr;
import dev.berth.gateway.config.ListenConfig;
import io.netty.util.NetUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * What the gateway believes of a request's forwarding headers ({@code listen.trustedProxies},
 * docs/security.md). From a peer in the list, the client is the right-most address of
 * {@code Forwarded} (RFC 7239) or else {@code X-Forwarded-For} that is not itself a trusted proxy,
 * and the scheme and host are the ones forwarded ({@code X-Forwarded-Proto}, {@code -Host},
 * {@code -Port}: their right-most values, which the nearest proxy set). From any other peer those
 * headers are ignored: the client is the peer, the scheme the listener's and the host the request's
 * own. With {@code listen.proxyProtocol}, the PROXY header's source address stands for the peer
 * only when the load balancer that sent it is trusted.
 */
final class TrustedProxies {

    private static final Logger LOG = Logger.getLogger(TrustedProxies.class.getName());
    private static final CharSequence FORWARDED = HttpHeaders.createOptimized("Forwarded");
    private static final CharSequence X_FORWARDED_FOR = HttpHeaders.createOptimized("X-Forwarded-For");
    private static final CharSequence X_FORWARDED_PROTO = HttpHeaders.createOptimized("X-Forwarded-Proto");
    private static final CharSequence X_FORWARDED_HOST = HttpHeaders.createOptimized("X-Forwarded-Host");
    private static final CharSequence X_FORWARDED_PORT = HttpHeaders.createOptimized("X-Forwarded-Port");

    private final List<Cidr> trusted;
    private final boolean proxyProtocol;
    private final boolean tls;

    TrustedProxies(ListenConfig listen) {
        this.trusted = listen.trustedProxies();
        this.proxyProtocol = listen.proxyProtocol();
        this.tls = listen.tls() != null;
    }

    /**
     * The address a connection is from for per-client limits: its peer (or the source a trusted load
     * balancer's PROXY header names), or null when that is a trusted proxy, whose connections carry
     * many clients and are held to {@code listen.maxConnections} only.
     */
    String clientOf(HttpConnection connection) {
        String peer = peer(connection);
        return trusts(peer) ? null : peer;
    }

    PublicView view(HttpServerRequest request) {
        String peer = peer(request.connection());
        String host = request.getHeader(HttpHeaders.HOST);
        if (!trusts(peer)) {
            return new PublicView(peer, null, tls, host, true);
        }
        List<String> forwarded = request.headers().getAll(FORWARDED);
        Hop hop = forwarded.isEmpty() ? fromXForwarded(request, peer) : fromForwarded(forwarded, peer);
        String port = last(request.headers().getAll(X_FORWARDED_PORT));
        String publicHost = hop.host != null ? hop.host : host;
        boolean portKnown = hasPort(publicHost) || port != null;
        if (!hasPort(publicHost) && port != null && publicHost != null) {
            publicHost = publicHost + ":" + port;
        }
        return new PublicView(
                hop.client, peer, hop.proto != null ? hop.proto.equals("https") : tls, publicHost, portKnown);
    }

    /** The TCP peer, or the source a trusted load balancer's PROXY header names. */
    private String peer(HttpConnection connection) {
        SocketAddress real = connection.remoteAddress(true);
        String address = proxyProtocol && trusts(real.hostAddress())
                ? connection.remoteAddress().hostAddress()
                : real.hostAddress();
        String canonical = canonical(address);
        return canonical != null ? canonical : address;
    }

    /** What a chain of {@code Forwarded} elements says of the hop that reached the first trusted proxy. */
    private Hop fromForwarded(List<String> headers, String peer) {
        List<String[]> elements = new ArrayList<>(); // {for, proto, host} per element, left to right
        for (String header : headers) {
            for (String element : header.split(",")) {
                String[] fields = new String[3];
                for (String pair : element.split(";")) {
                    int equals = pair.indexOf('=');
                    if (equals < 0) {
                        continue;
                    }
                    String name = pair.substring(0, equals).trim().toLowerCase(Locale.ROOT);
                    String value = unquote(pair.substring(equals + 1).trim());
                    switch (name) {
                        case "for" -> fields[0] = value;
                        case "proto" -> fields[1] = value.toLowerCase(Locale.ROOT);
                        case "host" -> fields[2] = value;
                        default -> {}
                    }
                }
                elements.add(fields);
            }
        }
        for (int i = elements.size() - 1; i >= 0; i--) {
            String client = canonical(withoutPort(elements.get(i)[0]));
            if (client == null) {
                LOG.fine(() -> "a Forwarded header from trusted proxy " + peer + " names no address it can use: "
                        + headers + "; the proxy is taken as the client");
                return new Hop(peer, elements.get(i)[1], elements.get(i)[2]);
            }
            if (!trusts(client) || i == 0) {
                return new Hop(client, elements.get(i)[1], elements.get(i)[2]);
            }
        }
        return new Hop(peer, null, null);
    }

    private Hop fromXForwarded(HttpServerRequest request, String peer) {
        List<String> chain = new ArrayList<>();
        request.headers().getAll(X_FORWARDED_FOR).forEach(header -> {
            for (String address : header.split(",")) {
                chain.add(address.trim());
            }
        });
        String client = peer;
        for (int i = chain.size() - 1; i >= 0; i--) {
            String address = canonical(withoutPort(chain.get(i)));
            if (address == null) {
                LOG.fine(() -> "X-Forwarded-For from trusted proxy " + peer + " holds '" + chain + "', not an address"
                        + " list; its right-most usable address is taken as the client");
                break;
            }
            client = address;
            if (!trusts(address)) {
                break;
            }
        }
        String proto = last(request.headers().getAll(X_FORWARDED_PROTO));
        return new Hop(
                client,
                proto == null ? null : proto.toLowerCase(Locale.ROOT),
                last(request.headers().getAll(X_FORWARDED_HOST)));
    }

    private record Hop(String client, String proto, String host) {}

    private boolean trusts(String address) {
        if (address == null || trusted.isEmpty()) {
            return false;
        }
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            return false;
        }
        try {
            InetAddress inet = InetAddress.getByAddress(bytes);
            return trusted.stream().anyMatch(block -> block.contains(inet));
        } catch (UnknownHostException wrongLength) {
            return false;
        }
    }

    /** The right-most value of a comma-separated header, or null. */
    private static String last(List<String> headers) {
        if (headers.isEmpty()) {
            return null;
        }
        String[] values = headers.get(headers.size() - 1).split(",");
        String value = values[values.length - 1].trim();
        return value.isEmpty() ? null : value;
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1)
                : value;
    }

    /** An address as {@code 192.0.2.1}, {@code 192.0.2.1:4711}, {@code [2001:db8::1]:4711} or {@code 2001:db8::1}, without its port. */
    private static String withoutPort(String address) {
        if (address == null) {
            return null;
        }
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            return close < 0 ? null : address.substring(1, close);
        }
        int colon = address.indexOf(':');
        return colon >= 0 && colon == address.lastIndexOf(':') ? address.substring(0, colon) : address;
    }

    private static boolean hasPort(String host) {
        return host != null && host.lastIndexOf(':') > host.lastIndexOf(']');
    }

    /** One spelling per address ({@code ::ffff:10.0.0.1} is {@code 10.0.0.1}), so limits count it once; null if it is none. */
    private static String canonical(String address) {
        byte[] bytes = address == null ? null : NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            return null;
        }
        try {
            return NetUtil.toAddressString(InetAddress.getByAddress(bytes));
        } catch (UnknownHostException wrongLength) {
            return null;
        }
    }
}
