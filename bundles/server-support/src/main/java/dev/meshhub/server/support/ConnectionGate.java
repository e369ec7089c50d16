package dev.meshhub.server.support;

import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A cap on the connections of one port that have not authenticated: accepted, but not yet past a TLS
 * handshake that showed a verified client certificate (still handshaking, or done without one, as an
 * enrolling node or a scanner). A connection accepted while the cap is reached is closed at once,
 * before any TLS work, so a flood of anonymous connections costs the hub a socket accept each and
 * never the memory and CPU of a handshake or an HTTP/2 connection. A connection leaves the count
 * when its handshake shows a certificate (the TLS layer has verified it against the CA), or when it
 * closes; on a plaintext port when its transport is ready (no certificate to wait for there).
 *
 * <p>Install both halves: {@link #acceptFilter()} first in the listening channel's pipeline (see
 * {@link EventLoops#apply(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder, ConnectionGate)}),
 * and {@link #transportFilter()} on the server. Thread-safe; the cap is read at every accept, so a
 * configuration change applies to the next connection.
 */
public final class ConnectionGate {

    private final IntSupplier cap;
    private final AtomicInteger unauthenticated = new AtomicInteger();
    private final Map<SocketAddress, Channel> counted = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();

    /** @param cap the most unauthenticated connections at once (read at every accept) */
    public ConnectionGate(IntSupplier cap) {
        this.cap = cap;
    }

    /** Connections counted now. */
    public int unauthenticated() {
        return unauthenticated.get();
    }

    /** Connections closed at accept because the cap was reached, since the gate was made. */
    public long refused() {
        return refused.get();
    }

    /** The current cap. */
    public int cap() {
        return cap.getAsInt();
    }

    /** Admits {@code child} or closes it; true when admitted. Runs on the accepting event loop. */
    boolean admit(Channel child) {
        SocketAddress remote = child.remoteAddress();
        if (remote == null) {
            return true; // not a socket (in-process tests)
        }
        int limit = cap.getAsInt();
        if (unauthenticated.incrementAndGet() > limit) {
            unauthenticated.decrementAndGet();
            refused.incrementAndGet();
            return false;
        }
        counted.put(remote, child);
        child.closeFuture().addListener(closed -> {
            if (counted.remove(remote, child)) { // a later connection from the same address keeps its entry
                unauthenticated.decrementAndGet();
            }
        });
        return true;
    }

    /** The connection from {@code remote} authenticated: it no longer counts (once). */
    void settle(SocketAddress remote) {
        if (remote != null && counted.remove(remote) != null) {
            unauthenticated.decrementAndGet();
        }
    }

    /** The handler to put first in the listening channel's pipeline: it sees each accepted child before it is set up. */
    public ChannelInboundHandlerAdapter acceptFilter() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Channel child && !admit(child)) {
                    child.unsafe().closeForcibly();
                    return;
                }
                ctx.fireChannelRead(msg);
            }
        };
    }

    /** The server's transport filter: settles connections whose handshake showed a certificate (or any, on plaintext). */
    public ServerTransportFilter transportFilter() {
        return new ServerTransportFilter() {
            @Override
            public Attributes transportReady(Attributes attributes) {
                SSLSession session = attributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                boolean authenticated = session == null;
                if (session != null) {
                    try {
                        authenticated = session.getPeerCertificates().length > 0;
                    } catch (SSLPeerUnverifiedException anonymous) {
                        authenticated = false;
                    }
                }
                if (authenticated) {
                    settle(attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                }
                return attributes;
            }
        };
    }
}
