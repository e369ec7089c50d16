package dev.meshhub.api.pki;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * The hub's certificate authority, as one service. Generated on the hub's first start under
 * {@code data/pki/}; never replaced silently (a broken directory stops the service from starting,
 * naming the file). Every method answers from memory: safe on any thread.
 */
public interface HubPki {

    /** URI SAN prefix of a node certificate: {@code meshhub://node/<node id>}. */
    String NODE_URI_PREFIX = "meshhub://node/";
    /** URI SAN prefix of the hub's server certificate: {@code meshhub://hub/<hub id>}. */
    String HUB_URI_PREFIX = "meshhub://hub/";

    /**
     * The pin of the current CA: {@code sha256:} and the lowercase hex SHA-256 of its
     * SubjectPublicKeyInfo (as kubeadm's {@code --discovery-token-ca-cert-hash}).
     */
    String caPin();

    /** Every CA a certificate of this hub may chain to, the current one first. */
    List<X509Certificate> trustBundle();

    /** The node port's current key and certificate chain (renewed in place before it expires). */
    ServerIdentity serverIdentity();

    /**
     * Issues a node certificate for {@code nodeId} from the node's own CSR (PKCS#10, DER). The hub
     * writes the identity itself (URI SAN {@code meshhub://node/<nodeId>}, client authentication
     * only); the CSR contributes only its public key, which must be EC P-256 or P-384.
     *
     * @throws PkiException with {@link PkiException.Reason#BAD_REQUEST} when the CSR is malformed,
     *                      badly signed, too large, of another algorithm, or names another node
     */
    IssuedCertificate issueNodeCertificate(String nodeId, String nodeName, byte[] csr) throws PkiException;

    /**
     * Checks a CSR before an invite token is spent on it, as {@link #issueNodeCertificate} will for a
     * node that has no id yet (so it may ask for no name at all).
     *
     * @throws PkiException with {@link PkiException.Reason#BAD_REQUEST}, saying what is wrong
     */
    void checkNodeCsr(byte[] csr) throws PkiException;

    /**
     * The node id a certificate of this hub names ({@code meshhub://node/<id>}), or empty when it is no
     * node certificate. Only the name is read: chain, validity and revocation are checked elsewhere.
     */
    Optional<String> nodeIdOf(X509Certificate certificate);

    /** The CA rotation in progress, if any. */
    Optional<CaRotation> rotation();

    /**
     * Starts a CA rotation: makes a new CA, adds it to the trust bundle and issues every node
     * certificate from it from now on; the node port keeps serving with the current CA until the old
     * one is retired. Durable: a restart carries on with the rotation.
     *
     * @throws PkiException BAD_REQUEST when a rotation is already running; UNAVAILABLE when the new CA
     *                      cannot be written
     */
    CaRotation rotateCa() throws PkiException;

    /**
     * Ends the rotation in progress: the new CA becomes the only one, the node port's certificate is
     * re-issued by it, and certificates of the old CA fail the TLS handshake from now on. The old CA's
     * key is destroyed (its certificate is kept under {@code retired/}).
     *
     * @return false when no rotation was running
     * @throws PkiException UNAVAILABLE when the files cannot be moved (the rotation stays as it was)
     */
    boolean retireOldCa() throws PkiException;
}
