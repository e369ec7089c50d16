package dev.meshhub.runtime.it;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ManagedChannel;

/**
 * A node enrolled in the hub under test as a real node enrolls: its own key, a CSR with the invite
 * token, and from then on an mTLS channel presenting the certificate the hub issued (its only
 * identity: the hub refuses bearer credentials on its TLS port).
 */
final class TestNode implements AutoCloseable {

    final KeyPair keys;
    final SyncConfigurationResponse enrolled;
    final List<X509Certificate> chain;
    final ManagedChannel channel;
    private final java.nio.file.Path home;
    private final int port;

    private TestNode(java.nio.file.Path home, int port, KeyPair keys, SyncConfigurationResponse enrolled, Executor executor) {
        this.home = home;
        this.port = port;
        this.keys = keys;
        this.enrolled = enrolled;
        this.chain = TestCertificates.der(enrolled.getCertificateChainList());
        if (chain.isEmpty()) {
            throw new AssertionError("the hub answered the enrollment of " + enrolled.getNodeName() + " without a certificate");
        }
        this.channel = HubClient.nodeChannel(home, port, executor, TestCertificates.keyManagers(keys.getPrivate(), chain));
    }

    /** Enrolls with {@code request} (token and name as the test sets them) plus a CSR for a new key. */
    static TestNode enroll(HubClient hub, SyncConfigurationRequest request) {
        return enroll(hub, request, null);
    }

    /** As {@link #enroll(HubClient, SyncConfigurationRequest)}, the node's channel calling back on {@code executor}. */
    static TestNode enroll(HubClient hub, SyncConfigurationRequest request, Executor executor) {
        return enroll(hub, hub.nodePort, request, executor);
    }

    /** Enrolls through the node port {@code port} (which the node then keeps using). */
    static TestNode enroll(HubClient hub, int port, SyncConfigurationRequest request, Executor executor) {
        KeyPair keys = TestCertificates.keys("secp256r1");
        SyncConfigurationRequest withCsr = request.toBuilder().setCsr(ByteString.copyFrom(TestCertificates.csr(keys, null))).build();
        ManagedChannel enrolling = HubClient.nodeChannel(hub.home, port, null);
        SyncConfigurationResponse response;
        try {
            response = NodeServiceGrpc.newBlockingStub(enrolling).withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(withCsr);
        } finally {
            enrolling.shutdownNow();
        }
        TestNode node = new TestNode(hub.home, port, keys, response, executor);
        hub.track(node);
        return node;
    }

    /**
     * Renews over this node's connection, as an agent does: a CSR for a new key. The node returned
     * presents the new certificate on a new channel; this one's channel (and its streams) carry on.
     */
    TestNode renew(HubClient hub) {
        KeyPair next = TestCertificates.keys("secp256r1");
        SyncConfigurationResponse response = node().syncConfiguration(SyncConfigurationRequest.newBuilder()
                .setCsr(ByteString.copyFrom(TestCertificates.csr(next, null))).build());
        TestNode renewed = new TestNode(home, port, next, response, null);
        hub.track(renewed);
        return renewed;
    }

    String getNodeId() {
        return enrolled.getNodeId();
    }

    String getNodeName() {
        return enrolled.getNodeName();
    }

    NodeSettings getSettings() {
        return enrolled.getSettings();
    }

    /** The node's calls, authenticated by its certificate. */
    NodeServiceGrpc.NodeServiceBlockingStub node() {
        return NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** Opens the node's TaskStream (no Hello yet). */
    TestStream stream() {
        return TestStream.open(channel);
    }

    /** Opens an Upload stream of the node. */
    TestUpload upload() {
        return TestUpload.open(channel);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
