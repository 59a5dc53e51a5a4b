package dev.berth.gateway.launcher;

import com.github.dockerjava.transport.DockerHttpClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentLengthStrategy;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.NameValuePair;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.impl.DefaultContentLengthStrategy;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EmptyInputStream;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The engine API's HTTP client, in place of docker-java's own Apache client for two defects seen
 * here: its unix socket ignores read timeouts (a call the engine never answers holds a worker
 * forever, whatever {@code docker.apiTimeout} says), and its pool hands out connections without
 * a look, so the first calls after an engine restart went out on connections the old engine had
 * closed ({@code Broken pipe}: sessions refused right after the engine came back). Here every
 * pooled connection is checked before it is reused (a closed one reads as ended at once; a live
 * one costs at most a millisecond's wait), and every read times out. Modelled on docker-java's
 * {@code ApacheDockerHttpClientImpl} (Apache License 2.0), without what Berth does not use
 * (TLS, named pipes, hijacked streams).
 */
final class EngineHttpClient implements DockerHttpClient {

    private static final HttpHost UNIX = new HttpHost("http", "localhost", 2375);

    private final CloseableHttpClient http;
    private final HttpHost host;

    /**
     * @param engine {@code unix:///path} or {@code tcp://host:port}
     * @param responseTimeout how long a call may wait for the engine's answer; zero for none (the
     *     event stream, which may be quiet for hours)
     */
    EngineHttpClient(URI engine, int maxConnections, Duration connectTimeout, Duration responseTimeout) {
        boolean unix = "unix".equals(engine.getScheme());
        host = unix ? UNIX : new HttpHost("http", engine.getHost(), engine.getPort());
        String path = engine.getPath();
        DefaultHttpClientConnectionOperator operator = new DefaultHttpClientConnectionOperator(
                proxy -> unix ? new EngineSocket(path) : new Socket(),
                DefaultSchemePortResolver.INSTANCE,
                SystemDefaultDnsResolver.INSTANCE,
                RegistryBuilder.<org.apache.hc.client5.http.ssl.TlsSocketStrategy>create()
                        .build());
        PoolingHttpClientConnectionManager connections = new PoolingHttpClientConnectionManager(
                operator,
                PoolConcurrencyPolicy.STRICT,
                PoolReusePolicy.LIFO,
                TimeValue.NEG_ONE_MILLISECOND,
                new ManagedHttpClientConnectionFactory(null, null, null, null, EngineHttpClient::contentLength, null));
        connections.setMaxTotal(maxConnections);
        connections.setDefaultMaxPerRoute(maxConnections);
        connections.setDefaultSocketConfig(
                SocketConfig.custom().setSoTimeout(timeout(responseTimeout)).build());
        connections.setDefaultConnectionConfig(ConnectionConfig.custom()
                .setValidateAfterInactivity(TimeValue.ZERO_MILLISECONDS) // every reuse looks first
                .setConnectTimeout(timeout(connectTimeout))
                .build());
        http = HttpClients.custom()
                .setConnectionManager(connections)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(timeout(responseTimeout))
                        .build())
                .disableConnectionState()
                .build();
    }

    private static Timeout timeout(Duration duration) {
        return Timeout.of(duration.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The engine streams some answers (events, logs) with "Transfer-Encoding: identity": until the end. */
    private static long contentLength(org.apache.hc.core5.http.HttpMessage message)
            throws org.apache.hc.core5.http.HttpException {
        Header encoding = message.getFirstHeader(HttpHeaders.TRANSFER_ENCODING);
        if (encoding != null && "identity".equalsIgnoreCase(encoding.getValue())) {
            return ContentLengthStrategy.UNDEFINED;
        }
        return DefaultContentLengthStrategy.INSTANCE.determineLength(message);
    }

    @Override
    public Response execute(Request request) {
        HttpUriRequestBase call = new HttpUriRequestBase(request.method(), URI.create(request.path()));
        request.headers().forEach(call::addHeader);
        if (request.bodyBytes() != null) {
            call.setEntity(new ByteArrayEntity(request.bodyBytes(), null));
        } else if (request.body() != null) {
            call.setEntity(new InputStreamEntity(request.body(), null));
        }
        if (request.hijackedInput() != null) {
            throw new UnsupportedOperationException("Berth's engine client does not attach to containers");
        }
        try {
            return new Answer(call, http.executeOpen(host, call, null));
        } catch (IOException e) {
            throw new UncheckedIOException("engine call " + request.method() + " " + request.path() + " failed", e);
        }
    }

    @Override
    public void close() throws IOException {
        http.close();
    }

    private record Answer(HttpUriRequestBase call, ClassicHttpResponse response) implements Response {

        @Override
        public int getStatusCode() {
            return response.getCode();
        }

        @Override
        public Map<String, List<String>> getHeaders() {
            return Stream.of(response.getHeaders())
                    .collect(Collectors.groupingBy(
                            NameValuePair::getName, Collectors.mapping(NameValuePair::getValue, Collectors.toList())));
        }

        @Override
        public String getHeader(String name) {
            Header header = response.getFirstHeader(name);
            return header == null ? null : header.getValue();
        }

        @Override
        public InputStream getBody() {
            try {
                return response.getEntity() == null
                        ? EmptyInputStream.INSTANCE
                        : response.getEntity().getContent();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Ends the exchange: a stream read to its end gives its connection back, one cut short closes it. */
        @Override
        public void close() {
            call.abort();
            try {
                response.close();
            } catch (IOException ignored) {
                // the connection is dropped either way
            }
        }
    }
}
