package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.inject.Inject;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.IssuedCertificate;

/**
 * The PKI bundle in the real hub: the CA made on first start (owner-only under data/pki), node
 * certificates from CSRs, and a broken CA directory refused, naming the file, with no new CA made.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PkiIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Inject
    private HubPki pki;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("PkiIT", Map.of(), "meshhub-transport", "meshhub-admin");
    }

    @Test
    public void theHubMakesItsCaOnFirstStartAndIssuesNodeCertificates() throws Exception {
        Path directory = hub.home.resolve("data/pki");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)));
        for (String file : List.of("ca.key", "ca.crt", "server.key", "server.crt", "trust.pem")) {
            assertEquals(file, "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve(file))));
        }
        X509Certificate ca = pki.trustBundle().get(0);
        assertEquals("sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getPublicKey().getEncoded())),
                pki.caPin());
        assertTrue(Files.readString(directory.resolve("ca.crt")).startsWith("-----BEGIN CERTIFICATE-----"));

        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        var node = generator.generateKeyPair();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=ignored"), node.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(node.getPrivate())).getEncoded();
        IssuedCertificate issued = pki.issueNodeCertificate("n-0123456789ab", "pki-node", csr);
        assertEquals(java.util.Optional.of("n-0123456789ab"), pki.nodeIdOf(issued.certificate()));
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                .generateCertPath(List.of(issued.certificate())), parameters);
        pki.serverIdentity().certificate().verify(ca.getPublicKey());
    }

    @Test
    public void aMissingCaKeyKeepsThePkiDownNamingTheFileAndNoNewCaIsMade() throws Exception {
        Path directory = hub.home.resolve("data/pki");
        Bundle bundle = bundle("dev.meshhub.pki");
        String caBefore = Files.readString(directory.resolve("ca.crt"));
        bundle.stop();
        Path key = directory.resolve("ca.key");
        Path kept = directory.resolveSibling("ca.key.kept");
        Files.move(key, kept);
        try {
            bundle.start();
            Poll.until("the PKI component's activation to fail", PATIENCE, () -> failure() != null);
            assertTrue(failure(), failure().contains(key + " is missing"));
            var reference = context.getServiceReference(HubPki.class);
            // SCR may keep the registration of a component whose activation failed; what matters to a
            // consumer is that getting it yields nothing (and SCR retried activation, failing again).
            assertNull("no PKI service can be had", reference == null ? null : context.getService(reference));
            assertFalse("no new CA key was made", Files.exists(key));
            assertEquals("the CA certificate is untouched", caBefore, Files.readString(directory.resolve("ca.crt")));
        } finally {
            bundle.stop();
            Files.move(kept, key);
            bundle.start();
        }
        Poll.until("the PKI back with its own CA", PATIENCE, () -> context.getServiceReference(HubPki.class) != null);
        HubPki back = context.getService(context.getServiceReference(HubPki.class));
        assertNotNull(back);
        assertEquals("the same CA as before", caBefore, Files.readString(directory.resolve("ca.crt")));
    }

    /** Why SCR could not activate the PKI component, or null. */
    private String failure() {
        var reference = context.getServiceReference(ServiceComponentRuntime.class);
        ServiceComponentRuntime scr = context.getService(reference);
        try {
            for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs(bundle("dev.meshhub.pki"))) {
                for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                    if (configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                        return configuration.failure;
                    }
                }
            }
            return null;
        } finally {
            context.ungetService(reference);
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }
}
