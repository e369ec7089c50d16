package dev.meshhub.runtime.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
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

    private HubClient(BundleContext context) {
        this.home = Path.of(context.getProperty("meshhub.home"));
        this.nodePort = Integer.parseInt(context.getProperty(HubTestSupport.NODE_PORT));
        this.adminPort = Integer.parseInt(context.getProperty(HubTestSupport.ADMIN_PORT));
        this.nodeChannel = NettyChannelBuilder.forAddress("127.0.0.1", nodePort).usePlaintext().build();
        this.adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort).usePlaintext().build();
    }

    static HubClient connect(BundleContext context) {
        return new HubClient(context);
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

    SyncConfigurationResponse enroll(String name) throws Exception {
        return node().syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(invite()).setNodeName(name).build());
    }

    TestStream stream(String credential) {
        return TestStream.open(nodeChannel, credential);
    }

    @Override
    public void close() throws InterruptedException {
        nodeChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        adminChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
