package dev.meshhub.transport.impl.rpc;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.function.Supplier;

import com.google.protobuf.ByteString;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.IssuedCertificate;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.Status;

/**
 * The handshake's use of the hub's PKI: checks a node's CSR before a token is spent on it, and puts
 * the certificate issued from it into the answer. CPU work only (a signature), no disk.
 */
final class NodeCertificateIssuer {

    private final Supplier<HubPki> pki;

    NodeCertificateIssuer(Supplier<HubPki> pki) {
        this.pki = pki;
    }

    /** Why a CSR cannot be used (a status to answer with), or null when it can. */
    Status refusal(byte[] csr) {
        HubPki current = pki.get();
        if (current == null) {
            return Status.UNAVAILABLE.withDescription("the hub's PKI is not available, so it cannot issue the node's certificate;"
                    + " retry shortly (the token was not spent)");
        }
        try {
            current.checkNodeCsr(csr);
            return null;
        } catch (PkiException e) {
            return statusOf(e, "the token was not spent");
        }
    }

    /**
     * Issues the certificate and adds it, with the trust bundle, to the answer.
     *
     * @return null, or the status to answer with when it could not be issued
     */
    Status issueInto(SyncConfigurationResponse.Builder response, String nodeId, String nodeName, byte[] csr) {
        return issueInto(response, nodeId, nodeName, csr, certificate -> { });
    }

    /** As {@link #issueInto(SyncConfigurationResponse.Builder, String, String, byte[])}, telling {@code issued} the new certificate. */
    Status issueInto(SyncConfigurationResponse.Builder response, String nodeId, String nodeName, byte[] csr,
            java.util.function.Consumer<X509Certificate> issuedTo) {
        HubPki current = pki.get();
        if (current == null) {
            return Status.UNAVAILABLE.withDescription("the hub's PKI is not available; retry shortly");
        }
        try {
            IssuedCertificate issued = current.issueNodeCertificate(nodeId, nodeName, csr);
            for (X509Certificate certificate : issued.chain()) {
                response.addCertificateChain(ByteString.copyFrom(certificate.getEncoded()));
            }
            for (X509Certificate ca : issued.trustBundle()) {
                response.addTrustBundle(ByteString.copyFrom(ca.getEncoded()));
            }
            issuedTo.accept(issued.certificate());
            return null;
        } catch (PkiException e) {
            return statusOf(e, "nothing was issued");
        } catch (CertificateEncodingException e) {
            return Status.INTERNAL.withDescription("the issued certificate could not be encoded; see the hub log");
        }
    }

    private static Status statusOf(PkiException e, String consequence) {
        return e.reason() == PkiException.Reason.BAD_REQUEST
                ? Status.INVALID_ARGUMENT.withDescription("bad CSR: " + e.getMessage() + " (" + consequence + ")")
                : Status.UNAVAILABLE.withDescription(e.getMessage() + "; retry shortly (" + consequence + ")");
    }
}
