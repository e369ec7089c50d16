package dev.meshhub.pki.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.pki.IssuedCertificate;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.testing.MutableClock;

/** Node certificates from nodes' CSRs: the hub writes the identity, and bad CSRs are refused with the reason. */
public class NodeCertificateTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T10:00:00Z"));
    private HubCa ca;

    @Before
    public void openCa() throws Exception {
        ca = HubCa.open(new HubCa.Settings(tmp.getRoot().toPath().resolve("pki"), ServerNames.of(List.of()), Duration.ofDays(90),
                Duration.ofDays(7), Duration.ZERO), clock);
    }

    @Test
    public void aNodesOwnKeyIsCertifiedUnderTheIdentityTheHubWrites() throws Exception {
        KeyPair node = Csrs.ec("secp256r1");
        IssuedCertificate issued = ca.issue("n-0123456789ab", "web1", Csrs.csr(node));
        X509Certificate certificate = issued.certificate();

        assertEquals("the node's own key; the private half never left it", node.getPublic(), certificate.getPublicKey());
        assertEquals(List.of("meshhub://node/n-0123456789ab"), HubCaTest.sanValues(certificate));
        assertEquals(List.of("1.3.6.1.5.5.7.3.2"), certificate.getExtendedKeyUsage()); // clientAuth only
        assertEquals(-1, certificate.getBasicConstraints());
        assertEquals("CN=web1,O=meshhub", certificate.getSubjectX500Principal().getName());
        assertEquals(clock.instant().minus(Duration.ofMinutes(5)), certificate.getNotBefore().toInstant());
        assertEquals(clock.instant().plus(Duration.ofDays(7)), certificate.getNotAfter().toInstant());
        assertEquals(ca.trustBundle(), issued.trustBundle());
        assertEquals(Optional.of("n-0123456789ab"), HubCa.nodeIdOf(certificate));

        // A standard PKIX validation (what a TLS stack does) accepts the chain, five minutes behind the hub too.
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca.trustBundle().get(0), null)));
        parameters.setRevocationEnabled(false);
        parameters.setDate(Date.from(clock.instant().minus(Duration.ofMinutes(4))));
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                .generateCertPath(List.of(certificate)), parameters);
    }

    @Test
    public void aP384KeyAndACsrAskingForItsOwnNameAreAccepted() throws Exception {
        KeyPair node = Csrs.ec("secp384r1");
        X509Certificate certificate = ca.issue("n-1", "db", Csrs.csr(node, "meshhub://node/n-1")).certificate();
        assertEquals(node.getPublic(), certificate.getPublicKey());
    }

    @Test
    public void aCsrForAnotherNodesIdIsRefused() throws Exception {
        PkiException e = refused(Csrs.csr(Csrs.ec("secp256r1"), "meshhub://node/n-victim"), "n-1");
        assertEquals("the CSR asks for the name meshhub://node/n-victim, but it is being issued to node n-1; a node may only ask"
                + " for its own name (meshhub://node/n-1) or none", e.getMessage());
        PkiException hub = refused(Csrs.csr(Csrs.ec("secp256r1"), "meshhub://hub/x"), "n-1");
        assertTrue(hub.getMessage(), hub.getMessage().startsWith("the CSR asks for the name meshhub://hub/x"));
    }

    @Test
    public void weakOrForeignKeysAreRefusedNamingWhatWasFound() throws Exception {
        assertEquals("the CSR's key is RSA; only EC keys on P-256 or P-384 are accepted",
                refused(Csrs.csr(Csrs.rsa(2048)), "n-1").getMessage());
        assertEquals("the CSR's EC key is on secp256k1; only P-256 (secp256r1) or P-384 (secp384r1) are accepted",
                refused(Csrs.csr(Csrs.ec("secp256k1")), "n-1").getMessage());
    }

    @Test
    public void aCsrSignedByAnotherKeyIsRefused() throws Exception {
        byte[] forged = Csrs.csr(Csrs.ec("secp256r1"), Csrs.ec("secp256r1"));
        assertEquals("the CSR's signature does not verify with the key it carries", refused(forged, "n-1").getMessage());
    }

    @Test
    public void garbageEmptyAndOversizedCsrsAreRefused() throws Exception {
        assertTrue(refused("not a csr".getBytes(), "n-1").getMessage().startsWith("the CSR is not a PKCS#10 certification request"));
        assertTrue(refused(new byte[0], "n-1").getMessage().startsWith("the request carries no CSR"));
        assertEquals("the CSR is 100000 bytes; at most 4096 are accepted", refused(new byte[100_000], "n-1").getMessage());
        byte[] valid = Csrs.csr(Csrs.ec("secp256r1"));
        valid[valid.length - 5] ^= 0x40; // a flipped bit in the signature
        assertTrue(refused(valid, "n-1").getMessage().startsWith("the CSR"));
    }

    @Test
    public void theServerCertificateIsNoNodeCertificate() {
        assertEquals(Optional.empty(), HubCa.nodeIdOf(ca.server().certificate()));
        assertEquals(Optional.empty(), HubCa.nodeIdOf(ca.trustBundle().get(0)));
    }

    private PkiException refused(byte[] csr, String nodeId) {
        PkiException e = assertThrows(PkiException.class, () -> ca.issue(nodeId, "x", csr));
        assertEquals(PkiException.Reason.BAD_REQUEST, e.reason());
        return e;
    }
}
