package dev.meshhub.api.pki;

import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A CA rotation in progress: the hub still serves with {@code oldCa} (so nodes that have not heard of
 * the new CA still trust the hub) while every node certificate is issued by {@code newCa}; both are
 * in the trust bundle. It ends when the old CA is retired ({@link HubPki#retireOldCa()}): once every
 * enrolled node holds a certificate of the new CA, or at {@code retireBy} at the latest.
 *
 * @param oldCa     the CA being retired
 * @param newCa     the CA taking over
 * @param newCaPin  the new CA's pin (the one invites print once the rotation is over)
 * @param startedAt when the rotation began
 * @param retireBy  when the old CA is retired at the latest, renewed or not
 */
public record CaRotation(X509Certificate oldCa, X509Certificate newCa, String newCaPin, Instant startedAt, Instant retireBy) {

    /** Whether {@code certificate} was issued by the new CA (by its issuer name and signature). */
    public boolean issuedByNewCa(X509Certificate certificate) {
        if (!certificate.getIssuerX500Principal().equals(newCa.getSubjectX500Principal())) {
            return false;
        }
        try {
            certificate.verify(newCa.getPublicKey());
            return true;
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
