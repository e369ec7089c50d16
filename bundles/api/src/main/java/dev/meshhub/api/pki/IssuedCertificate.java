package dev.meshhub.api.pki;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A node certificate just issued, with what the node needs to trust the hub.
 *
 * @param chain       the node's certificate, then the CA that signed it
 * @param trustBundle every CA the hub's certificates may chain to
 */
public record IssuedCertificate(List<X509Certificate> chain, List<X509Certificate> trustBundle) {

    public IssuedCertificate {
        chain = List.copyOf(chain);
        trustBundle = List.copyOf(trustBundle);
    }

    /** The node's own certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }
}
