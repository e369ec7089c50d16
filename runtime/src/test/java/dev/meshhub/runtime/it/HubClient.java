package dev.meshhub.runtime.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.WireHeaders;
import dev.meshhub.proto.v1.HubTrust;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;

/** Real gRPC clients of the hub under test, over loopback. */
final class HubClient implements AutoCloseable {

    final int nodePort;
    final int adminPort;
    final Path home;
    final ManagedChannel nodeChannel;
    final ManagedChannel adminChannel;
    private final java.util.List<TestNode> nodes = new java.util.concurrent.CopyOnWriteArrayList<>();

    private HubClient(BundleContext context) {
        this.home = Path.of(context.getProperty("meshhub.home"));
        this.nodePort = Integer.parseInt(context.getProperty(HubTestSupport.NODE_PORT));
        this.adminPort = Integer.parseInt(context.getProperty(HubTestSupport.ADMIN_PORT));
        this.nodeChannel = nodeChannel(home, nodePort, null);
        this.adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort).usePlaintext().build();
    }

    /**
     * A channel to a node port of the hub at {@code home}, over TLS that verifies the hub as a node
     * does: by the CA in {@code data/pki/trust.pem} (read once the PKI has written it).
     */
    static ManagedChannel nodeChannel(Path home, int port, java.util.concurrent.Executor executor) {
        return nodeChannel(home, port, executor, null);
    }

    /** A node port channel that also presents a client certificate (key managers), as a certified node does. */
    static ManagedChannel nodeChannel(Path home, int port, java.util.concurrent.Executor executor, javax.net.ssl.KeyManager[] keys) {
        Path trust = home.resolve("data/pki/trust.pem");
        Poll.until("the hub's trust bundle " + trust, Duration.ofSeconds(30), () -> Files.isRegularFile(trust));
        ChannelCredentials credentials;
        try {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(HubTrust.anchors(HubTrust.readPem(trust)));
            if (keys != null) {
                tls.keyManager(keys);
            }
            credentials = tls.build();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), credentials);
        if (executor != null) {
            builder.executor(executor);
        }
        return builder.build();
    }

    /**
     * Clients of the hub under test, once both its ports listen: the admin API is its own component
     * and may come up a moment after the transport.
     */
    static HubClient connect(BundleContext context) {
        HubClient client = new HubClient(context);
        Poll.until("the admin API to listen on " + client.adminPort, Duration.ofSeconds(30), () -> listens(client.adminPort));
        return client;
    }

    /** Clients of a hub booted without the admin API (its node port is up once the transport is). */
    static HubClient connectWithoutAdmin(BundleContext context) {
        return new HubClient(context);
    }

    static boolean listens(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    String adminToken() throws Exception {
        return Files.readString(home.resolve("etc/admin.token"), StandardCharsets.US_ASCII).trim();
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin() throws Exception {
        return adminWith(adminToken());
    }

    AdminServiceGrpc.AdminServiceBlockingStub adminWith(String token) {
        Metadata headers = new Metadata();
        headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + token);
        return AdminServiceGrpc.newBlockingStub(adminChannel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    NodeServiceGrpc.NodeServiceBlockingStub node() {
        return NodeServiceGrpc.newBlockingStub(nodeChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    String invite() throws Exception {
        return admin().createInvite(CreateInviteRequest.newBuilder().setNote("it").build()).getToken();
    }

    /** Enrolls a node named {@code name} with a new invite and its own key (see {@link TestNode}). */
    TestNode enroll(String name) throws Exception {
        return TestNode.enroll(this, SyncConfigurationRequest.newBuilder().setInviteToken(invite()).setNodeName(name).build());
    }

    /** Closes {@code node}'s channel with this client. */
    void track(TestNode node) {
        nodes.add(node);
    }

    @Override
    public void close() throws InterruptedException {
        for (TestNode node : nodes) {
            node.close();
        }
        nodeChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        adminChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
