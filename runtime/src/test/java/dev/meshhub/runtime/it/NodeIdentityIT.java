package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static dev.meshhub.runtime.it.TestCertificates.csr;
import static dev.meshhub.runtime.it.TestCertificates.der;
import static dev.meshhub.runtime.it.TestCertificates.keyManagers;
import static dev.meshhub.runtime.it.TestCertificates.keys;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import com.google.protobuf.ByteString;

import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Node certificates in the real hub: enrollment with a CSR returns a certificate naming the node,
 * which then authenticates its calls on the TLS connection with no credential header; bad CSRs do
 * not spend the token; a revoked, expired or foreign certificate is refused with a status (or, for a
 * foreign CA, at the handshake); a node enrolled with a bearer credential moves onto a certificate.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NodeIdentityIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Inject
    private HubPki pki;

    @Inject
    private EnrollmentStore enrollment;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("NodeIdentityIT", Map.of(), "meshhub");
    }

    /** A node's key, its certificate once issued, and an mTLS channel presenting it. */
    private final class CertifiedNode implements AutoCloseable {
        final KeyPair keys = keys("secp256r1");
        List<X509Certificate> chain;
        ManagedChannel channel;
        SyncConfigurationResponse enrolled;

        CertifiedNode enroll(String name) throws Exception {
            enrolled = hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(hub.invite())
                    .setNodeName(name).setCsr(ByteString.copyFrom(csr(keys, null))).build());
            return certified(enrolled);
        }

        CertifiedNode certified(SyncConfigurationResponse response) throws Exception {
            chain = der(response.getCertificateChainList());
            return withChain(keys.getPrivate(), chain);
        }

        CertifiedNode withChain(PrivateKey key, List<X509Certificate> certificates) throws Exception {
            channel = HubClient.nodeChannel(hub.home, hub.nodePort, null, keyManagers(key, certificates));
            return this;
        }

        TestStream stream() {
            return TestStream.open(channel);
        }

        @Override
        public void close() throws Exception {
            if (channel != null) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    public void aCsrAtEnrollmentEarnsACertificateThatAuthenticatesTheNodeWithoutACredential() throws Exception {
        try (CertifiedNode node = new CertifiedNode().enroll("certified")) {
            X509Certificate certificate = node.chain.get(0);
            String nodeId = node.enrolled.getNodeId();
            assertEquals(nodeId, pki.nodeIdOf(certificate).orElseThrow());
            assertEquals(node.keys.getPublic(), certificate.getPublicKey());
            assertEquals(List.of("1.3.6.1.5.5.7.3.2"), certificate.getExtendedKeyUsage());
            assertEquals(pki.trustBundle(), der(node.enrolled.getTrustBundleList()));
            certificate.verify(pki.trustBundle().get(0).getPublicKey());
            assertTrue("backdated for clock skew", certificate.getNotBefore().toInstant().isBefore(Instant.now().minus(Duration.ofMinutes(4))));

            try (TestStream stream = node.stream().hello()) {
                Poll.until("the certified node listed", PATIENCE, () -> directory.session(nodeId).isPresent());
            }
        }
        StatusRuntimeException anonymous = HubIT.failure(() -> hub.node().syncConfiguration(SyncConfigurationRequest.getDefaultInstance()));
        assertEquals("without a certificate an empty handshake is refused", Status.Code.INVALID_ARGUMENT, anonymous.getStatus().getCode());
    }

    @Test
    public void theHandshakeOverTheCertificateAnswersForThatNode() throws Exception {
        try (CertifiedNode node = new CertifiedNode().enroll("handshaker")) {
            SyncConfigurationResponse answer = dev.meshhub.proto.v1.NodeServiceGrpc.newBlockingStub(node.channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(SyncConfigurationRequest.getDefaultInstance());
            assertEquals(node.enrolled.getNodeId(), answer.getNodeId());
            assertEquals("", answer.getNodeCredential());
        }
    }

    @Test
    public void aCertifiedNodeRenewsOverItsConnectionAndItsOpenStreamCarriesOn() throws Exception {
        try (CertifiedNode node = new CertifiedNode().enroll("renewing")) {
            TestStream live = node.stream().hello().keepAlive();
            Poll.until("listed", PATIENCE, () -> directory.session(node.enrolled.getNodeId()).isPresent());
            KeyPair next = keys("secp256r1");
            SyncConfigurationResponse renewed = dev.meshhub.proto.v1.NodeServiceGrpc.newBlockingStub(node.channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .syncConfiguration(SyncConfigurationRequest.newBuilder().setCsr(ByteString.copyFrom(csr(next, null))).build());
            List<X509Certificate> chain = der(renewed.getCertificateChainList());
            assertEquals(next.getPublic(), chain.get(0).getPublicKey());
            assertEquals(node.enrolled.getNodeId(), pki.nodeIdOf(chain.get(0)).orElseThrow());
            assertEquals("the open stream was not touched", null, live.ended.getNow(null));
            try (CertifiedNode renewedNode = new CertifiedNode().withChain(next.getPrivate(), chain)) {
                SyncConfigurationResponse answer = dev.meshhub.proto.v1.NodeServiceGrpc.newBlockingStub(renewedNode.channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(SyncConfigurationRequest.getDefaultInstance());
                assertEquals(node.enrolled.getNodeId(), answer.getNodeId());
            }
            byte[] forOther = csr(keys("secp256r1"), "meshhub://node/n-999999999999");
            StatusRuntimeException other = HubIT.failure(() -> dev.meshhub.proto.v1.NodeServiceGrpc.newBlockingStub(node.channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(SyncConfigurationRequest.newBuilder()
                            .setCsr(ByteString.copyFrom(forOther)).build()));
            assertEquals("a renewal may not name another node", Status.Code.INVALID_ARGUMENT, other.getStatus().getCode());
            live.close();
        }
    }

    @Test
    public void badCsrsAreRefusedNamingTheFaultAndDoNotSpendTheToken() throws Exception {
        String token = hub.invite();
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair rsaKeys = rsa.generateKeyPair();
        byte[] rsaCsr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=weak"), rsaKeys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(rsaKeys.getPrivate())).getEncoded();
        KeyPair node = keys("secp256r1");
        Map<String, byte[]> bad = Map.of(
                "RSA", rsaCsr,
                "not a PKCS#10", "garbage".getBytes(),
                "no id yet", csr(node, "meshhub://node/n-0123456789ab"),
                "at most 4096", new byte[100_000]);
        for (Map.Entry<String, byte[]> csr : bad.entrySet()) {
            StatusRuntimeException e = HubIT.failure(() -> hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder()
                    .setInviteToken(token).setNodeName("bad").setCsr(ByteString.copyFrom(csr.getValue())).build()));
            assertEquals(csr.getKey(), Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription(), e.getStatus().getDescription().contains(csr.getKey())
                    && e.getStatus().getDescription().contains("the token was not spent"));
        }
        SyncConfigurationResponse good = hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(token)
                .setNodeName("good-after-bad").setCsr(ByteString.copyFrom(csr(node, null))).build());
        assertEquals(2, good.getCertificateChainCount());
    }

    @Test
    public void aRevokedNodesCertificateIsRefusedAtOnce() throws Exception {
        try (CertifiedNode node = new CertifiedNode().enroll("to-revoke")) {
            TestStream live = node.stream().hello().keepAlive();
            Poll.until("listed", PATIENCE, () -> directory.session(node.enrolled.getNodeId()).isPresent());
            long revoked = System.nanoTime();
            hub.admin().revokeNode(RevokeNodeRequest.newBuilder().setNode(node.enrolled.getNodeId()).build());
            assertNotEquals(null, live.awaitEnd(10));
            System.out.printf("meshhub: revoked node's stream closed %d ms after the revoke call%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - revoked));
            Status again = node.stream().hello().awaitEnd(10);
            assertEquals(again.toString(), Status.Code.PERMISSION_DENIED, again.getCode());
            assertTrue(again.getDescription(), again.getDescription().contains("revoked"));
        }
    }

    @Test
    public void anExpiredCertificateIsToldSoAndAForeignOneFailsTheHandshake() throws Exception {
        try (CertifiedNode node = new CertifiedNode().enroll("expiring");
             CertifiedNode expired = new CertifiedNode();
             CertifiedNode foreign = new CertifiedNode()) {
            // Signed by the hub's own CA key (read from data/pki as only the hub's user can), already expired.
            PrivateKey caKey = pemKey(Files.readString(hub.home.resolve("data/pki/ca.key")));
            X509Certificate ca = pki.trustBundle().get(0);
            X509Certificate old = nodeCertificate(X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()), caKey, expired.keys, node.enrolled.getNodeId(),
                    Instant.now().minus(Duration.ofDays(2)), Instant.now().minus(Duration.ofDays(1)));
            expired.withChain(expired.keys.getPrivate(), List.of(old, ca));
            Status status = expired.stream().hello().awaitEnd(10);
            assertEquals(status.toString(), Status.Code.UNAUTHENTICATED, status.getCode());
            assertTrue(status.getDescription(), status.getDescription().contains("expired at"));

            KeyPair otherCa = keys("secp256r1");
            X509Certificate stranger = nodeCertificate(new X500Name("CN=another CA"), otherCa.getPrivate(), foreign.keys, node.enrolled.getNodeId(),
                    Instant.now().minus(Duration.ofMinutes(5)), Instant.now().plus(Duration.ofDays(1)));
            foreign.withChain(foreign.keys.getPrivate(), List.of(stranger));
            Status refused = foreign.stream().hello().awaitEnd(10);
            assertEquals(refused.toString(), Status.Code.UNAVAILABLE, refused.getCode());

            try (TestStream fine = node.stream().hello()) {
                Poll.until("the real node still connects", PATIENCE, () -> directory.session(node.enrolled.getNodeId()).isPresent());
            }
        }
    }

    @Test
    public void aHundredKilobyteChainIsRefusedAtTheHandshakeAndTheHubCarriesOn() throws Exception {
        try (CertifiedNode node = new CertifiedNode().enroll("steady"); CertifiedNode bloated = new CertifiedNode()) {
            List<X509Certificate> chain = new ArrayList<>(List.of(node.chain.get(0)));
            KeyPair padding = keys("secp256r1");
            int bytes = chain.get(0).getEncoded().length;
            for (int i = 0; bytes < 100_000; i++) {
                X509Certificate pad = nodeCertificate(new X500Name("CN=padding-" + i + ",OU=" + "x".repeat(60) + ",O=" + "y".repeat(60)), padding.getPrivate(), padding,
                        "n-00000000000" + (i % 10), Instant.now().minus(Duration.ofMinutes(5)), Instant.now().plus(Duration.ofDays(1)));
                chain.add(pad);
                bytes += pad.getEncoded().length;
            }
            bloated.withChain(node.keys.getPrivate(), chain);
            Status refused = bloated.stream().hello().awaitEnd(10);
            assertEquals(refused.toString(), Status.Code.UNAVAILABLE, refused.getCode());
            try (TestStream fine = node.stream().hello()) {
                Poll.until("the hub still serves the node with its real chain", PATIENCE,
                        () -> directory.session(node.enrolled.getNodeId()).isPresent());
            }
        }
    }

    @Test
    public void anEnrollmentWhoseAnswerWasLostIsAnsweredAgainForTheSameCsrOnly() throws Exception {
        String token = hub.invite();
        KeyPair key = keys("secp256r1");
        ByteString csr = ByteString.copyFrom(csr(key, null));
        SyncConfigurationRequest request = SyncConfigurationRequest.newBuilder().setInviteToken(token).setNodeName("lost-answer")
                .setCsr(csr).build();
        SyncConfigurationResponse lost = hub.node().syncConfiguration(request);

        SyncConfigurationResponse again = hub.node().syncConfiguration(request);
        assertEquals("the same node, not a second one", lost.getNodeId(), again.getNodeId());
        assertEquals(lost.getNodeId(), pki.nodeIdOf(der(again.getCertificateChainList()).get(0)).orElseThrow());
        assertEquals(key.getPublic(), der(again.getCertificateChainList()).get(0).getPublicKey());
        StatusRuntimeException other = HubIT.failure(() -> hub.node().syncConfiguration(request.toBuilder()
                .setCsr(ByteString.copyFrom(csr(keys("secp256r1"), null))).build()));
        assertEquals("another key cannot use the spent token", Status.Code.UNAUTHENTICATED, other.getStatus().getCode());
        assertTrue(other.getMessage(), other.getStatus().getDescription().contains("already used"));
        assertEquals(1, enrollment.nodes().stream().filter(n -> n.name().startsWith("lost-answer")).count());
    }

    @Test
    public void aNodeEnrolledWithABearerCredentialTradesItOnceForACertificateAndItIsRetired() throws Exception {
        // A node enrolled before certificates: a journal row with a bearer credential (the store's own API).
        Enrollment legacy = enrollment.enroll(hub.invite(), "legacy", "127.0.0.1:1", Instant.now().plusSeconds(10))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        String nodeId = legacy.node().nodeId();

        StatusRuntimeException alone = HubIT.failure(() -> hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder()
                .setNodeCredential(legacy.credential()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, alone.getStatus().getCode());
        assertTrue(alone.getMessage(), alone.getStatus().getDescription().contains("bearer credentials are retired"));
        io.grpc.Metadata header = new io.grpc.Metadata();
        header.put(dev.meshhub.proto.v1.WireHeaders.NODE_CREDENTIAL, legacy.credential());
        try (TestStream bearer = TestStream.open(hub.nodeChannel, header).hello()) {
            Status refused = bearer.awaitEnd(10);
            assertEquals(Status.Code.UNAUTHENTICATED, refused.getCode());
            assertTrue(refused.getDescription(), refused.getDescription().contains("bearer credentials are retired"));
        }
        assertTrue("no session by a bearer credential", directory.session(nodeId).isEmpty());

        try (CertifiedNode node = new CertifiedNode()) {
            SyncConfigurationResponse moved = hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder()
                    .setNodeCredential(legacy.credential()).setCsr(ByteString.copyFrom(csr(node.keys, null))).build());
            assertEquals("", moved.getNodeCredential());
            node.certified(moved);
            assertEquals(nodeId, pki.nodeIdOf(node.chain.get(0)).orElseThrow());
            try (TestStream stream = node.stream().hello()) {
                Poll.until("legacy listed by certificate", PATIENCE, () -> directory.session(nodeId).isPresent());
            }
        }
        assertTrue("the credential is retired in the journal", enrollment.authenticate(legacy.credential()).isEmpty());
        StatusRuntimeException again = HubIT.failure(() -> hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder()
                .setNodeCredential(legacy.credential()).setCsr(ByteString.copyFrom(csr(keys("secp256r1"), null))).build()));
        assertEquals("a copy of the traded credential buys nothing", Status.Code.UNAUTHENTICATED, again.getStatus().getCode());
    }

    private static X509Certificate nodeCertificate(X500Name issuer, PrivateKey issuerKey, KeyPair subject, String nodeId,
            Instant from, Instant until) throws Exception {
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(System.nanoTime()),
                Date.from(from), Date.from(until), new X500Name("CN=crafted"), subject.getPublic());
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, HubPki.NODE_URI_PREFIX + nodeId)));
        return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private static PrivateKey pemKey(String pem) throws Exception {
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    }

}
