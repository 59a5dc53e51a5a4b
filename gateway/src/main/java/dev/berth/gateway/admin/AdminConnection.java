package dev.berth.gateway.admin;

import dev.berth.gateway.config.AdminConfig;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ListenConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Where the {@code berth} command calls: the admin API with its bearer token (the full one, or the
 * read-only one when that is all this user can read), or the public listener for readiness, which
 * needs none. Over https when the listener serves TLS, trusting the gateway's own certificate.
 */
final class AdminConnection {

    /** The exit status of a command that could not reach the gateway. */
    static final int UNREACHABLE = 3;

    private static final long TIMEOUT_SECONDS = 10;

    private final String host;
    private final int port;
    private final ListenConfig.Tls tls;
    private final String token;
    private WebClient client;

    private AdminConnection(String host, int port, ListenConfig.Tls tls, String token) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.token = token;
    }

    /** The admin API of the gateway {@code config} describes, with the first of its token files this user can read. */
    static AdminConnection toAdmin(BerthConfig config) {
        AdminConfig admin = config.admin();
        String token = readable(admin.tokenFile());
        if (token == null) {
            token = readable(admin.readOnlyTokenFile());
        }
        if (token == null) {
            throw new IllegalStateException("cannot read the admin token " + admin.tokenFile()
                    + " (admin.tokenFile) nor the read-only one " + admin.readOnlyTokenFile()
                    + " (admin.readOnlyTokenFile): the gateway makes them on its first start, readable by its own"
                    + " user only");
        }
        return new AdminConnection(local(admin.host()), admin.port(), admin.tls(), token);
    }

    /** The public listener of the gateway {@code config} describes, without a token. */
    static AdminConnection toEdge(BerthConfig config) {
        ListenConfig listen = config.listen();
        return new AdminConnection(local(listen.host()), listen.port(), listen.tls(), null);
    }

    /** A request of the command {@link #run} runs. */
    Future<HttpResponse<Buffer>> call(HttpMethod method, String path) {
        HttpRequest<Buffer> request = client.request(method, port, host, path);
        return (token == null ? request : request.bearerTokenAuthentication(token)).send();
    }

    /** Runs {@code command} with a client of its own; its exit status, or {@link #UNREACHABLE}. */
    int run(Function<AdminConnection, Future<Integer>> command, PrintWriter err) {
        Vertx vertx = Vertx.vertx();
        WebClientOptions options = new WebClientOptions().setConnectTimeout(5000);
        if (tls != null) {
            // Its own certificate, which it may have made itself; the host it names may not be this address.
            options.setSsl(true)
                    .setVerifyHost(false)
                    .setTrustOptions(
                            new PemTrustOptions().addCertPath(tls.certificate().toString()));
        }
        client = WebClient.create(vertx, options);
        try {
            return command.apply(this).await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            err.println("berth: cannot reach the gateway at " + (tls == null ? "http" : "https") + "://" + host + ":"
                    + port + ": " + e.getMessage());
            return UNREACHABLE;
        } finally {
            client.close();
            vertx.close();
        }
    }

    private static String readable(Path file) {
        try {
            return Files.isReadable(file) ? Files.readString(file).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** A listener on every address is reached on loopback. */
    private static String local(String host) {
        return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    }
}
