package dev.meshhub.server.support;

import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The Netty event loops of one component's gRPC servers, owned by that component and ended with it.
 * grpc-java's default loops are shared process-wide and released a second after the last server
 * stops: by then the bundle that loaded them may be gone, and they die loading classes from a dead
 * class loader (or live on in an embedding application). Epoll on Linux, NIO elsewhere.
 */
public final class EventLoops implements AutoCloseable {

    private static final long QUIET_MILLIS = 0;
    private static final long SHUTDOWN_MILLIS = 5000;

    private final EventLoopGroup boss;
    private final EventLoopGroup worker;
    private final Class<? extends ServerChannel> channelType;

    private EventLoops(EventLoopGroup boss, EventLoopGroup worker, Class<? extends ServerChannel> channelType) {
        this.boss = boss;
        this.worker = worker;
        this.channelType = channelType;
    }

    /**
     * Loops for servers named by {@code prefix}: one accepting thread ({@code prefix-accept-N}) and
     * twice the processors for connections ({@code prefix-io-N}), daemons.
     */
    public static EventLoops create(String prefix) {
        if (Epoll.isAvailable()) {
            return new EventLoops(new EpollEventLoopGroup(1, new DefaultThreadFactory(prefix + "-accept", true)),
                    new EpollEventLoopGroup(0, new DefaultThreadFactory(prefix + "-io", true)), EpollServerSocketChannel.class);
        }
        return new EventLoops(new NioEventLoopGroup(1, new DefaultThreadFactory(prefix + "-accept", true)),
                new NioEventLoopGroup(0, new DefaultThreadFactory(prefix + "-io", true)), NioServerSocketChannel.class);
    }

    /** A server builder that runs on these loops. */
    public NettyServerBuilder apply(NettyServerBuilder builder) {
        return builder.bossEventLoopGroup(boss).workerEventLoopGroup(worker).channelType(channelType);
    }

    /** A server builder that runs on these loops and admits connections through {@code gate}. */
    public NettyServerBuilder apply(NettyServerBuilder builder, ConnectionGate gate) {
        boolean epoll = channelType == EpollServerSocketChannel.class;
        return builder.bossEventLoopGroup(boss).workerEventLoopGroup(worker)
                .channelFactory(() -> {
                    ServerChannel channel = epoll ? new EpollServerSocketChannel() : new NioServerSocketChannel();
                    channel.pipeline().addFirst("meshhub-connection-gate", gate.acceptFilter());
                    return channel;
                })
                .addTransportFilter(gate.transportFilter());
    }

    /** Ends the loops and waits for their threads; call after every server on them has terminated. */
    @Override
    public void close() {
        boss.shutdownGracefully(QUIET_MILLIS, SHUTDOWN_MILLIS, TimeUnit.MILLISECONDS);
        worker.shutdownGracefully(QUIET_MILLIS, SHUTDOWN_MILLIS, TimeUnit.MILLISECONDS);
        boss.terminationFuture().awaitUninterruptibly(2 * SHUTDOWN_MILLIS);
        worker.terminationFuture().awaitUninterruptibly(2 * SHUTDOWN_MILLIS);
    }
}
