package dev.meshhub.pki.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.testing.MutableClock;

/** The CA on disk: made once, found again, and never silently replaced. */
public class HubCaTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();
    private final MutableClock clock = new MutableClock(java.time.Instant.parse("2026-12-04T10:00:00Z"));

    private HubCa.Settings settings(Path directory, String... names) {
        return new HubCa.Settings(directory, ServerNames.of(List.of(names)), Duration.ofDays(90), Duration.ofDays(7), Duration.ZERO);
    }

    private Path pki() {
        return tmp.getRoot().toPath().resolve("data/pki");
    }

    @Test
    public void theFirstOpenMakesAnOwnerOnlyCaAndTheNextFindsTheSameOne() throws Exception {
        HubCa first = HubCa.open(settings(pki(), "hub.example.org"), clock);

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pki())));
        for (String file : List.of(HubCa.CA_KEY, HubCa.CA_CERT, HubCa.SERVER_KEY, HubCa.SERVER_CERT, HubCa.TRUST)) {
            assertEquals(file, "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pki().resolve(file))));
        }
        X509Certificate ca = first.trustBundle().get(0);
        assertEquals("CA:true, pathlen 0", 0, ca.getBasicConstraints());
        assertTrue(first.pin().matches("sha256:[0-9a-f]{64}"));
        assertEquals("sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getPublicKey().getEncoded())),
                first.pin());

        HubCa again = HubCa.open(settings(pki(), "hub.example.org"), clock);
        assertEquals("the same CA", first.pin(), again.pin());
        assertEquals("and the same server certificate", first.server().certificate(), again.server().certificate());
    }

    @Test
    public void aDeletedCaKeyStopsTheHubNamingTheFileAndMakesNoNewCa() throws Exception {
        HubCa.open(settings(pki()), clock);
        String caBefore = Files.readString(pki().resolve(HubCa.CA_CERT));
        Files.delete(pki().resolve(HubCa.CA_KEY));

        PkiException e = assertThrows(PkiException.class, () -> HubCa.open(settings(pki()), clock));
        assertEquals(PkiException.Reason.UNAVAILABLE, e.reason());
        assertTrue(e.getMessage(), e.getMessage().startsWith(pki().resolve(HubCa.CA_KEY) + " is missing"));
        assertTrue(e.getMessage(), e.getMessage().contains("no new CA is made"));
        assertEquals(caBefore, Files.readString(pki().resolve(HubCa.CA_CERT)));
        assertFalse(Files.exists(pki().resolve(HubCa.CA_KEY)));
    }

    @Test
    public void aDeletedCaCertificateIsRefusedToo() throws Exception {
        HubCa.open(settings(pki()), clock);
        Files.delete(pki().resolve(HubCa.CA_CERT));
        PkiException e = assertThrows(PkiException.class, () -> HubCa.open(settings(pki()), clock));
        assertTrue(e.getMessage(), e.getMessage().startsWith(pki().resolve(HubCa.CA_CERT) + " is missing"));
    }

    @Test
    public void bothCaFilesGoneButTracesLeftIsRefusedRatherThanStartingOver() throws Exception {
        HubCa.open(settings(pki()), clock);
        Files.delete(pki().resolve(HubCa.CA_CERT));
        Files.delete(pki().resolve(HubCa.CA_KEY));
        PkiException e = assertThrows(PkiException.class, () -> HubCa.open(settings(pki()), clock));
        assertTrue(e.getMessage(), e.getMessage().contains("shows this hub had a CA"));
        assertFalse(Files.exists(pki().resolve(HubCa.CA_KEY)));
    }

    @Test
    public void anUnreadableCaKeyIsRefusedNamingTheFile() throws Exception {
        HubCa.open(settings(pki()), clock);
        Path key = pki().resolve(HubCa.CA_KEY);
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        PkiException garbage = assertThrows(PkiException.class, () -> HubCa.open(settings(pki()), clock));
        assertTrue(garbage.getMessage(), garbage.getMessage().startsWith("cannot read " + key));

        Files.delete(key);
        Files.createDirectory(key);
        PkiException directory = assertThrows(PkiException.class, () -> HubCa.open(settings(pki()), clock));
        assertTrue(directory.getMessage(), directory.getMessage().startsWith("cannot read " + key + " (it is a directory)"));
    }

    @Test
    public void aKeyOfAnotherCaIsRefused() throws Exception {
        HubCa.open(settings(pki()), clock);
        Path other = tmp.getRoot().toPath().resolve("other");
        HubCa.open(settings(other), clock);
        Files.copy(other.resolve(HubCa.CA_KEY), pki().resolve(HubCa.CA_KEY), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        PkiException e = assertThrows(PkiException.class, () -> HubCa.open(settings(pki()), clock));
        assertTrue(e.getMessage(), e.getMessage().startsWith(pki().resolve(HubCa.CA_KEY) + " is not the key of the CA in "));
    }

    @Test
    public void filesLeftOpenToOthersAreTightened() throws Exception {
        HubCa.open(settings(pki()), clock);
        Files.setPosixFilePermissions(pki(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(pki().resolve(HubCa.CA_KEY), PosixFilePermissions.fromString("rw-r--r--"));
        HubCa.open(settings(pki()), clock);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pki())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pki().resolve(HubCa.CA_KEY))));
    }

    @Test
    public void theServerCertificateServesTheNodePortAndNamesTheHub() throws Exception {
        HubCa ca = HubCa.open(settings(pki(), "hub.example.org", "10.1.2.3"), clock);
        X509Certificate server = ca.server().certificate();

        server.verify(ca.trustBundle().get(0).getPublicKey());
        assertEquals(List.of("1.3.6.1.5.5.7.3.1"), server.getExtendedKeyUsage()); // serverAuth only
        assertEquals(-1, server.getBasicConstraints());
        assertEquals(List.of(HubPki.HUB_URI_PREFIX + ca.pin().substring(7, 23), "hub.example.org", "localhost", "10.1.2.3",
                "127.0.0.1", "0:0:0:0:0:0:0:1"), sanValues(server));
        assertEquals("valid from five minutes back", clock.instant().minus(Duration.ofMinutes(5)), server.getNotBefore().toInstant());
        assertEquals(clock.instant().plus(Duration.ofDays(90)), server.getNotAfter().toInstant());
        assertEquals(List.of(server, ca.trustBundle().get(0)), ca.server().chain());
    }

    @Test
    public void theServerCertificateIsRenewedAtTwoThirdsAndNotBefore() throws Exception {
        HubCa ca = HubCa.open(settings(pki()), clock);
        X509Certificate first = ca.server().certificate();
        clock.advance(Duration.ofDays(59));
        assertFalse(ca.renewServerIfDue());
        assertEquals(first, ca.server().certificate());

        clock.advance(Duration.ofDays(1));
        assertTrue(ca.renewServerIfDue());
        X509Certificate renewed = ca.server().certificate();
        assertNotEquals(first, renewed);
        assertEquals(clock.instant().plus(Duration.ofDays(90)), renewed.getNotAfter().toInstant());
        assertEquals("written for the next start", renewed, HubCa.open(settings(pki()), clock).server().certificate());
    }

    @Test
    public void newNamesGiveANewServerCertificateAtOnce() throws Exception {
        HubCa ca = HubCa.open(settings(pki(), "old.example.org"), clock);
        ca.reconfigure(settings(pki(), "new.example.org"));
        assertTrue(sanValues(ca.server().certificate()).contains("new.example.org"));
        assertFalse(sanValues(ca.server().certificate()).contains("old.example.org"));
        assertTrue("and on the next start too", sanValues(HubCa.open(settings(pki(), "new.example.org"), clock).server()
                .certificate()).contains("new.example.org"));
    }

    @Test
    public void aServerCertificateFromAnotherCaIsReplaced() throws Exception {
        HubCa ca = HubCa.open(settings(pki()), clock);
        Path other = tmp.getRoot().toPath().resolve("other");
        HubCa.open(settings(other), clock);
        for (String file : List.of(HubCa.SERVER_KEY, HubCa.SERVER_CERT)) {
            Files.copy(other.resolve(file), pki().resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        HubCa reopened = HubCa.open(settings(pki()), clock);
        reopened.server().certificate().verify(ca.trustBundle().get(0).getPublicKey());
    }

    static List<String> sanValues(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList();
    }
}
