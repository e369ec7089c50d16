package dev.meshhub.node;

import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.util.Optional;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

/**
 * What the node proves itself with, and how it gets it: a key pair made here and a CSR sent with
 * the invite token (or, for a node enrolled before certificates, with its bearer credential, once),
 * and the certificate the hub answers with, kept in the workspace. Confined to the agent's thread.
 */
final class NodeCredentials {

    private final CredentialStore store;
    /** The node's certificate identity, once it has one; null while on a bearer credential (or before enrollment). */
    private NodeKeyMaterial certificate;
    /** The key pair whose CSR is on its way to the hub. */
    private KeyPair pending;
    /** The CSR of an enrollment in progress, sent again unchanged on a retry. */
    private ByteString enrollmentCsr;

    NodeCredentials(CredentialStore store) {
        this.store = store;
    }

    /** Loads the stored certificate, if the node has one. */
    void load() throws IOException {
        certificate = store.loadCertificate().orElse(null);
    }

    NodeKeyMaterial certificate() {
        return certificate;
    }

    /**
     * The enrollment request: token, name, and a CSR for a new key pair. A retry sends the very same
     * CSR (and keeps the same key): if the hub spent the token but its answer was lost, it recognises
     * the request and answers again, rather than "already used".
     */
    SyncConfigurationRequest enrollment(String token, String name, NodeInfo info) {
        if (pending == null || enrollmentCsr == null) {
            pending = NodeKeyMaterial.newKeyPair();
            enrollmentCsr = ByteString.copyFrom(NodeKeyMaterial.csr(pending, name));
        }
        SyncConfigurationRequest.Builder request = SyncConfigurationRequest.newBuilder()
                .setInviteToken(token)
                .setCsr(enrollmentCsr)
                .setInfo(info);
        if (name != null) {
            request.setNodeName(name);
        }
        return request.build();
    }

    /**
     * The reconnect handshake: empty for a node with a certificate (the TLS connection says who it
     * is); the credential and a CSR for one that has none yet, to move onto a certificate.
     */
    SyncConfigurationRequest reconnect(NodeIdentity identity, NodeInfo info) {
        SyncConfigurationRequest.Builder request = SyncConfigurationRequest.newBuilder().setInfo(info);
        if (certificate == null) {
            enrollmentCsr = null;
            pending = NodeKeyMaterial.newKeyPair();
            request.setNodeCredential(identity.credential()).setCsr(ByteString.copyFrom(NodeKeyMaterial.csr(pending, identity.name())));
        }
        return request.build();
    }

    /** A renewal request: a CSR for a new key, sent over a connection with the current certificate. */
    SyncConfigurationRequest renewal(NodeInfo info) {
        enrollmentCsr = null;
        pending = NodeKeyMaterial.newKeyPair();
        return SyncConfigurationRequest.newBuilder().setInfo(info)
                .setCsr(ByteString.copyFrom(NodeKeyMaterial.csr(pending, null))).build();
    }

    /**
     * Keeps a renewed certificate.
     *
     * @throws CertificateException when the answer carries none
     */
    void renewed(SyncConfigurationResponse response) throws IOException, CertificateException {
        if (response.getCertificateChainCount() == 0) {
            throw new CertificateException("the hub answered the renewal without a certificate");
        }
        keep(response);
    }

    /** When the current certificate is due for renewal: two thirds into its lifetime. */
    java.time.Instant renewalTime() {
        java.time.Instant from = certificate.certificate().getNotBefore().toInstant();
        java.time.Instant until = certificate.notAfter();
        return from.plus(java.time.Duration.between(from, until).multipliedBy(2).dividedBy(3));
    }

    /**
     * Stores what enrollment earned: the certificate (when the hub issued one) or else the credential.
     *
     * @return the node's identity
     */
    NodeIdentity enrolled(SyncConfigurationResponse response) throws IOException, CertificateException {
        boolean certified = response.getCertificateChainCount() > 0;
        NodeIdentity enrolled = new NodeIdentity(response.getNodeId(), response.getNodeName(), certified ? "" : response.getNodeCredential());
        if (certified) {
            keep(response);
        }
        store.save(enrolled);
        return enrolled;
    }

    /**
     * After a reconnect handshake: when it carried the certificate a credential was traded for, keeps
     * it and deletes the credential.
     *
     * @return the node's identity without its credential, when it just moved onto a certificate
     */
    Optional<NodeIdentity> moved(NodeIdentity identity, SyncConfigurationResponse response) throws IOException, CertificateException {
        if (certificate != null || response.getCertificateChainCount() == 0) {
            return Optional.empty();
        }
        keep(response);
        store.deleteCredential();
        NodeIdentity moved = new NodeIdentity(identity.nodeId(), identity.name(), "");
        store.save(moved);
        return Optional.of(moved);
    }

    private void keep(SyncConfigurationResponse response) throws IOException, CertificateException {
        NodeKeyMaterial material = new NodeKeyMaterial(pending.getPrivate(), NodeKeyMaterial.fromDer(response.getCertificateChainList()),
                NodeKeyMaterial.fromDer(response.getTrustBundleList()));
        store.saveCertificate(material);
        pending = null;
        enrollmentCsr = null;
        certificate = material;
    }

    /** The header a call carries: the bearer credential of a node not yet on a certificate, else none. */
    static ClientInterceptor header(NodeIdentity identity) {
        Metadata headers = new Metadata();
        if (!identity.credential().isEmpty()) {
            headers.put(WireHeaders.NODE_CREDENTIAL, identity.credential());
        }
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }
}
