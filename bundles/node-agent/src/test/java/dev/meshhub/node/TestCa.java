package dev.meshhub.node;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.meshhub.proto.v1.HubTrust;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;

/** A CA of the test's own, made like the hub's (P-256, serverAuth leaf with a hub URI): the real hub's or an impostor's. */
final class TestCa {

    private static final AtomicLong SERIAL = new AtomicLong(1);

    final KeyPair caKeys;
    final X509Certificate ca;

    TestCa(String name) throws Exception {
        caKeys = keys();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name("CN=" + name),
                BigInteger.valueOf(SERIAL.getAndIncrement()), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(Duration.ofDays(30))), new X500Name("CN=" + name), caKeys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        ca = sign(builder, caKeys);
    }

    String pin() {
        return HubTrust.pinOf(ca);
    }

    /** A TLS server context presenting a hub certificate from this CA (or, with {@code asNode}, a node's). */
    SslContext server(boolean asNode) throws Exception {
        KeyPair leafKeys = keys();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name(ca.getSubjectX500Principal().getName()),
                BigInteger.valueOf(SERIAL.getAndIncrement()), Date.from(now.minus(Duration.ofMinutes(5))),
                Date.from(now.plus(Duration.ofDays(7))), new X500Name("CN=hub"), leafKeys.getPublic());
        builder.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(asNode ? KeyPurposeId.id_kp_clientAuth : KeyPurposeId.id_kp_serverAuth));
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.uniformResourceIdentifier, asNode ? "meshhub://node/n-000000000001" : "meshhub://hub/test"),
            new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        X509Certificate leaf = sign(builder, caKeys);
        return GrpcSslContexts.configure(SslContextBuilder.forServer(leafKeys.getPrivate(), leaf, ca), SslProvider.JDK)
                .protocols("TLSv1.3")
                .clientAuth(io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.OPTIONAL)
                .trustManager(ca)
                .build();
    }

    /** A node certificate for a CSR's key, as the hub issues it (clientAuth, the node's URI). */
    X509Certificate issue(byte[] csr, String nodeId) throws Exception {
        return issue(csr, nodeId, Duration.ofDays(7));
    }

    X509Certificate issue(byte[] csr, String nodeId, Duration lifetime) throws Exception {
        var request = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest(csr);
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name(ca.getSubjectX500Principal().getName()),
                BigInteger.valueOf(SERIAL.getAndIncrement()), Date.from(now), Date.from(now.plus(lifetime)),
                new X500Name("CN=" + nodeId), request.getPublicKey());
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, "meshhub://node/" + nodeId)));
        return sign(builder, caKeys);
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }
}
