package dev.meshhub.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;

import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.HubTrust;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * Where a {@link Fleet} connects: the hub's node port (TLS verified by the hub's trust bundle, the
 * node presenting its certificate, a handshake then {@code TaskStream}), or the echo baseline
 * ({@link FleetEchoServer}: TLS 1.3 with the same node certificates, one bidirectional stream).
 */
final class FleetTarget {

    /** The echo baseline's stream: the node's messages in, one small answer (a heartbeat) for each out. */
    static final MethodDescriptor<NodeMessage, HubMessage> ECHO_STREAM = BenchMethods.method(MethodDescriptor.MethodType.BIDI_STREAMING,
            "meshhub.bench.FleetEcho", "Stream", NodeMessage.getDefaultInstance(), HubMessage.getDefaultInstance());

    private final String label;
    private final int port;
    private final TrustManager trust;
    private final boolean hub;
    private final long heartbeatIntervalMs;

    private FleetTarget(String label, int port, TrustManager trust, boolean hub, long heartbeatIntervalMs) {
        this.label = label;
        this.port = port;
        this.trust = trust;
        this.hub = hub;
        this.heartbeatIntervalMs = heartbeatIntervalMs;
    }

    /** The hub's node port; nodes verify it by its {@code data/pki/trust.pem}. */
    static FleetTarget hub(HubInstance hub, long heartbeatIntervalMs) {
        try {
            return new FleetTarget("hub", hub.nodePort(), HubTrust.anchors(HubTrust.readPem(hub.home().resolve("data/pki/trust.pem"))),
                    true, heartbeatIntervalMs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the hub's trust bundle", e);
        }
    }

    /** The echo baseline on {@code port}, verified by the certificate it wrote. */
    static FleetTarget echo(int port, Path certificatePem, long heartbeatIntervalMs) {
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("echo", HubTrust.readPem(certificatePem).get(0));
            javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            return new FleetTarget("echo", port, trust.getTrustManagers()[0], false, heartbeatIntervalMs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the echo server's certificate", e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust the echo server's certificate", e);
        }
    }

    /** A new connection (channel) to this target, presenting the node's certificate. */
    ManagedChannel channel(KeyManagerFactory keys) {
        TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(trust).keyManager(keys.getKeyManagers());
        return NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), tls.build()).directExecutor().build();
    }

    /** Whether a connection starts with the hub's handshake (SyncConfiguration by certificate), as the agent's does. */
    boolean handshake() {
        return hub;
    }

    MethodDescriptor<NodeMessage, HubMessage> stream() {
        return hub ? NodeServiceGrpc.getTaskStreamMethod() : ECHO_STREAM;
    }

    long heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    @Override
    public String toString() {
        return label + " on 127.0.0.1:" + port;
    }
}
