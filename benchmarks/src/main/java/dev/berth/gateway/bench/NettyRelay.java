package dev.berth.gateway.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy benchmark's reference for what Java can do: a bare websocket relay on Netty (what
 * Vert.x runs on), in a process of its own. Each client websocket gets a websocket of its own to
 * a backend ({@code /s/N}: the Nth of the sessions' containers, as nginx's locations; any other
 * path: the shared backends in turn), and data frames are passed as they are, with backpressure
 * both ways and the writes of a read pass flushed once. It keeps no session and checks nothing of
 * its own (no sizes, no close codes; Netty's websocket handlers still checks text frames' UTF-8, byte by
 * byte, by default) and answers pings itself: what a relay on Netty alone costs, without Vert.x;
 * a reference, not a peer. Usage: {@code NettyRelay PORT SHARED SESSIONS}, the two lists
 * comma-separated host:port (either may be "-" for none).
 */
public final class NettyRelay {

    private static final int MAX_FRAME = 4 << 20;

    private NettyRelay() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        List<String> shared = addresses(args[1]);
        List<String> sessions = addresses(args[2]);
        AtomicInteger next = new AtomicInteger();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast(new FlushConsolidationHandler(256, true))
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(65536))
                                .addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/")
                                        .checkStartsWith(true)
                                        .maxFramePayloadLength(MAX_FRAME)
                                        .build()))
                                .addLast(new Front(shared, sessions, next));
                    }
                })
                .bind("127.0.0.1", port)
                .sync();
        System.out.println("netty relay listening on " + port);
        Thread.currentThread().join();
    }

    private static List<String> addresses(String list) {
        return list.equals("-") ? List.of() : List.of(list.split(","));
    }

    /**
     * One side of a relayed pair: a data frame it reads is passed on to the other side as it is,
     * and it stops being read while the other side's writes back up; anything else (or nowhere to
     * go yet) is dropped. One side closing closes the other.
     */
    private abstract static class Side extends ChannelInboundHandlerAdapter {

        /** The other side's channel; null until it is dialled. */
        abstract Channel other();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            Channel to = other();
            boolean data = message instanceof BinaryWebSocketFrame
                    || message instanceof TextWebSocketFrame
                    || message instanceof ContinuationWebSocketFrame;
            if (!data || to == null) {
                ReferenceCountUtil.release(message);
                return;
            }
            to.writeAndFlush(message, to.voidPromise());
            if (!to.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && other() != null) {
                other().config().setAutoRead(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (other() != null) {
                other().close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The client's side: dials its backend once the client's handshake is done, then relays. */
    private static final class Front extends Side {
        private final List<String> shared;
        private final List<String> sessions;
        private final AtomicInteger next;
        private Channel backend;

        Front(List<String> shared, List<String> sessions, AtomicInteger next) {
            this.shared = shared;
            this.sessions = sessions;
            this.next = next;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete complete) {
                ctx.channel().config().setAutoRead(false); // until the backend's handshake is done
                String uri = complete.requestUri();
                String address = uri.startsWith("/s/")
                        ? sessions.get(Integer.parseInt(uri.substring(3)))
                        : shared.get(Math.floorMod(next.getAndIncrement(), shared.size()));
                dial(ctx.channel(), address);
            }
            ctx.fireUserEventTriggered(event);
        }

        private void dial(Channel client, String address) {
            String[] hostPort = address.split(":");
            URI uri = URI.create("ws://" + address + "/");
            backend = new Bootstrap()
                    .group(client.eventLoop()) // the same loop: no thread hop between the two
                    .channel(EpollSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline()
                                    .addLast(new FlushConsolidationHandler(256, true))
                                    .addLast(new HttpClientCodec())
                                    .addLast(new HttpObjectAggregator(65536))
                                    .addLast(new WebSocketClientProtocolHandler(
                                            WebSocketClientHandshakerFactory.newHandshaker(
                                                    uri,
                                                    WebSocketVersion.V13,
                                                    null,
                                                    false,
                                                    new DefaultHttpHeaders(),
                                                    MAX_FRAME)))
                                    .addLast(new Back(client));
                        }
                    })
                    .connect(hostPort[0], Integer.parseInt(hostPort[1]))
                    .addListener(connected -> {
                        if (!connected.isSuccess()) {
                            client.close();
                        }
                    })
                    .channel();
        }

        @Override
        Channel other() {
            return backend;
        }
    }

    /** The backend's side: once its handshake is done the client is read; frames go back to it. */
    private static final class Back extends Side {
        private final Channel client;

        Back(Channel client) {
            this.client = client;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                client.config().setAutoRead(true);
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        Channel other() {
            return client;
        }
    }
}
