package dev.meshhub.pki.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.pki.CaRotation;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.testing.MutableClock;

/**
 * A CA rotation on disk: the new CA issues node certificates while the node port still serves with the
 * old one, survives a restart, and replaces the old one on retirement; a stop at any step of the file
 * moves is settled on the next open without making or losing a CA.
 */
public class CaRotationTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();
    private final MutableClock clock = new MutableClock(java.time.Instant.parse("2026-12-04T10:00:00Z"));

    private HubCa open(Duration grace) throws PkiException {
        return HubCa.open(new HubCa.Settings(tmp.getRoot().toPath().resolve("pki"), ServerNames.of(List.of()), Duration.ofDays(90),
                Duration.ofDays(7), grace), clock);
    }

    private Path pki() {
        return tmp.getRoot().toPath().resolve("pki");
    }

    private static X509Certificate nodeCertificate(HubCa ca) throws Exception {
        return ca.issue("n-0123456789ab", "web1", Csrs.csr(Csrs.ec("secp256r1"))).certificate();
    }

    @Test
    public void duringARotationTheNewCaIssuesAndTheOldOneStillServes() throws Exception {
        HubCa ca = open(Duration.ZERO);
        String oldPin = ca.pin();
        X509Certificate oldCa = ca.trustBundle().get(0);
        X509Certificate server = ca.server().certificate();

        CaRotation rotation = ca.rotate();
        assertNotEquals(oldPin, rotation.newCaPin());
        assertEquals("the node port still serves with the old CA", oldPin, ca.pin());
        assertEquals(server, ca.server().certificate());
        assertEquals(List.of(oldCa, rotation.newCa()), ca.trustBundle());
        assertEquals("trust.pem carries both", Pem.certificates(List.of(oldCa, rotation.newCa())),
                Files.readString(pki().resolve(HubCa.TRUST)));
        X509Certificate node = nodeCertificate(ca);
        node.verify(rotation.newCa().getPublicKey());
        assertTrue(rotation.issuedByNewCa(node));
        assertFalse(rotation.issuedByNewCa(server));
        assertEquals("grace 0: the node certificate lifetime", rotation.startedAt().plus(Duration.ofDays(7)), rotation.retireBy());

        PkiException twice = assertThrows(PkiException.class, ca::rotate);
        assertEquals(PkiException.Reason.BAD_REQUEST, twice.reason());
        assertTrue(twice.getMessage(), twice.getMessage().contains("already running"));

        HubCa restarted = open(Duration.ofHours(1));
        assertEquals("a restart carries on with the rotation", rotation.newCaPin(), restarted.rotation().orElseThrow().newCaPin());
        assertEquals(rotation.startedAt().plus(Duration.ofHours(1)), restarted.rotation().orElseThrow().retireBy());
        assertEquals(oldPin, restarted.pin());
        nodeCertificate(restarted).verify(rotation.newCa().getPublicKey());
    }

    @Test
    public void retiringMakesTheNewCaTheOnlyOneAndReissuesTheServerCertificate() throws Exception {
        HubCa ca = open(Duration.ZERO);
        String hubUri = ca.server().certificate().getSubjectAlternativeNames().iterator().next().get(1).toString();
        X509Certificate oldCa = ca.trustBundle().get(0);
        CaRotation rotation = ca.rotate();

        assertTrue(ca.retire());
        assertEquals(rotation.newCaPin(), ca.pin());
        assertEquals(List.of(rotation.newCa()), ca.trustBundle());
        ca.server().certificate().verify(rotation.newCa().getPublicKey());
        assertEquals("the hub keeps its id", hubUri, ca.server().certificate().getSubjectAlternativeNames().iterator().next().get(1));
        assertTrue(ca.rotation().isEmpty());
        assertFalse("nothing left to retire", ca.retire());
        assertFalse(Files.exists(pki().resolve(CaFiles.NEXT_KEY)));
        assertFalse(Files.exists(pki().resolve(CaFiles.NEXT_CERT)));
        try (var retired = Files.list(pki().resolve(CaFiles.RETIRED))) {
            List<Path> kept = retired.toList();
            assertEquals("only the old certificate is kept, never its key", 1, kept.size());
            assertEquals(Pem.certificates(List.of(oldCa)), Files.readString(kept.get(0)));
        }

        HubCa restarted = open(Duration.ZERO);
        assertEquals(rotation.newCaPin(), restarted.pin());
        assertTrue(restarted.rotation().isEmpty());
        assertEquals(ca.server().certificate(), restarted.server().certificate());
    }

    @Test
    public void aRetirementStoppedHalfwayIsFinishedOnTheNextOpen() throws Exception {
        HubCa ca = open(Duration.ZERO);
        CaRotation rotation = ca.rotate();
        // The stop came after the certificate moved and before the key did.
        Files.move(pki().resolve(CaFiles.NEXT_CERT), pki().resolve(HubCa.CA_CERT), StandardCopyOption.REPLACE_EXISTING);

        HubCa settled = open(Duration.ZERO);
        assertEquals(rotation.newCaPin(), settled.pin());
        assertTrue(settled.rotation().isEmpty());
        nodeCertificate(settled).verify(rotation.newCa().getPublicKey());
        settled.server().certificate().verify(rotation.newCa().getPublicKey());
    }

    @Test
    public void aRotationStoppedBeforeItsKeyWasWrittenNeverHappened() throws Exception {
        HubCa ca = open(Duration.ZERO);
        String pin = ca.pin();
        ca.rotate();
        Files.delete(pki().resolve(CaFiles.NEXT_KEY));

        HubCa reopened = open(Duration.ZERO);
        assertEquals(pin, reopened.pin());
        assertTrue(reopened.rotation().isEmpty());
        assertEquals(1, reopened.trustBundle().size());
        assertFalse(Files.exists(pki().resolve(CaFiles.NEXT_CERT)));
    }

    @Test
    public void aNextCaKeyOfAnotherCaIsRefusedNamingTheFile() throws Exception {
        open(Duration.ZERO).rotate();
        Files.copy(pki().resolve(HubCa.CA_KEY), pki().resolve(CaFiles.NEXT_KEY), StandardCopyOption.REPLACE_EXISTING);
        PkiException e = assertThrows(PkiException.class, () -> open(Duration.ZERO));
        assertTrue(e.getMessage(), e.getMessage().startsWith(pki().resolve(CaFiles.NEXT_KEY) + " is not the key of the CA"));
    }
}
