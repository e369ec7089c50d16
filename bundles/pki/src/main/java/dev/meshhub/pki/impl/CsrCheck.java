package dev.meshhub.pki.impl;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.PkiException;

/**
 * Checks a node's certificate signing request (PKCS#10, DER) before the hub signs its key: well
 * formed, at most {@link #MAX_BYTES}, signed by the key it carries, an EC key on P-256 or P-384, and
 * asking (if it asks for names at all) only for the node it is being issued to. The CSR's subject is
 * ignored: the hub writes the certificate's identity itself.
 */
final class CsrCheck {

    /** A P-384 CSR is under 600 bytes; anything near this is not a CSR from meshnode. */
    static final int MAX_BYTES = 4096;
    private static final Map<ASN1Encodable, String> CURVES = Map.of(SECObjectIdentifiers.secp256r1, "P-256",
            SECObjectIdentifiers.secp384r1, "P-384");

    private CsrCheck() {
    }

    /**
     * The public key to certify for {@code nodeId} ({@code null}: a node not enrolled yet, which may ask for no name).
     *
     * @throws PkiException BAD_REQUEST, saying what is wrong with the CSR
     */
    static PublicKey publicKey(byte[] csr, String nodeId) throws PkiException {
        if (csr == null || csr.length == 0) {
            throw bad("the request carries no CSR; a node sends a PKCS#10 CSR of its own EC P-256 key");
        }
        if (csr.length > MAX_BYTES) {
            throw bad("the CSR is " + csr.length + " bytes; at most " + MAX_BYTES + " are accepted");
        }
        JcaPKCS10CertificationRequest request;
        try {
            request = new JcaPKCS10CertificationRequest(csr);
        } catch (IOException | RuntimeException e) {
            throw bad("the CSR is not a PKCS#10 certification request (DER): " + e.getMessage());
        }
        // The algorithm and curve are read from the CSR's own encoding first: the JVM cannot even load
        // keys on some curves, and the answer must still say what was sent.
        AlgorithmIdentifier algorithm = request.getSubjectPublicKeyInfo().getAlgorithm();
        if (!X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm.getAlgorithm())) {
            throw bad("the CSR's key is " + keyAlgorithm(algorithm.getAlgorithm()) + "; only EC keys on P-256 or P-384 are accepted");
        }
        String curve = CURVES.get(algorithm.getParameters());
        if (curve == null) {
            throw bad("the CSR's EC key is on " + curveName(algorithm.getParameters())
                    + "; only P-256 (secp256r1) or P-384 (secp384r1) are accepted");
        }
        PublicKey key;
        try {
            key = request.getPublicKey();
        } catch (GeneralSecurityException | RuntimeException e) {
            throw bad("the CSR's " + curve + " key cannot be read: " + e.getMessage());
        }
        try {
            if (!request.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw bad("the CSR's signature does not verify with the key it carries");
            }
        } catch (OperatorCreationException | PKCSException | RuntimeException e) {
            throw bad("the CSR's signature cannot be checked: " + e.getMessage());
        }
        for (String uri : requestedUris(request)) {
            if (nodeId == null) {
                throw bad("the CSR asks for the name " + uri + ", but a node being enrolled has no id yet; send a CSR that"
                        + " asks for no name (the hub writes the node's identity itself)");
            }
            if (!uri.equals(HubPki.NODE_URI_PREFIX + nodeId)) {
                throw bad("the CSR asks for the name " + uri + ", but it is being issued to node " + nodeId
                        + "; a node may only ask for its own name (" + HubPki.NODE_URI_PREFIX + nodeId + ") or none");
            }
        }
        return key;
    }

    /** URIs, DNS names and addresses the CSR asks for (as strings), from its extension request. */
    private static List<String> requestedUris(JcaPKCS10CertificationRequest request) throws PkiException {
        List<String> names = new ArrayList<>();
        for (Attribute attribute : request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            Extensions extensions;
            try {
                extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
            } catch (RuntimeException e) {
                throw bad("the CSR's extension request is malformed: " + e.getMessage());
            }
            GeneralNames requested = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
            if (requested == null) {
                continue;
            }
            for (GeneralName name : requested.getNames()) {
                if (name.getTagNo() != GeneralName.uniformResourceIdentifier) {
                    throw bad("the CSR asks for a name of another kind than a URI (" + name + "); a node may only ask"
                            + " for its own " + HubPki.NODE_URI_PREFIX + "<id>");
                }
                names.add(name.getName().toString());
            }
        }
        return names;
    }

    /** The named curve of an EC key's parameters (e.g. secp256k1), or what they are when they name none. */
    private static String curveName(ASN1Encodable parameters) {
        if (parameters instanceof ASN1ObjectIdentifier oid) {
            String name = ECNamedCurveTable.getName(oid);
            return name == null ? "the curve " + oid.getId() : name;
        }
        return "an unnamed curve (explicit parameters)";
    }

    private static String keyAlgorithm(ASN1ObjectIdentifier oid) {
        if (PKCSObjectIdentifiers.rsaEncryption.equals(oid)) {
            return "RSA";
        }
        if (EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
            return "Ed25519";
        }
        return "of the algorithm " + oid.getId();
    }

    private static PkiException bad(String message) {
        return new PkiException(PkiException.Reason.BAD_REQUEST, message);
    }
}
