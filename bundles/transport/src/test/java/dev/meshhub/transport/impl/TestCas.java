package dev.meshhub.transport.impl;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Real certificates for unit tests: a CA, and certificates it signs with a chosen expiry. */
public final class TestCas {

    private static final AtomicLong SERIALS = new AtomicLong(1);

    public final KeyPair keys;
    public final X509Certificate certificate;

    public TestCas(String name) {
        keys = keyPair();
        X500Name subject = new X500Name("CN=" + name);
        certificate = sign(subject, subject, keys, keys.getPublic(), Instant.now().plusSeconds(86_400), true);
    }

    /** A certificate for a new key, signed by this CA, valid until {@code notAfter}. */
    public X509Certificate issue(String name, Instant notAfter) {
        return sign(new X500Name(certificate.getSubjectX500Principal().getName()), new X500Name("CN=" + name), keys, keyPair().getPublic(),
                notAfter, false);
    }

    private static X509Certificate sign(X500Name issuer, X500Name subject, KeyPair signer, java.security.PublicKey key, Instant notAfter,
            boolean ca) {
        try {
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIALS.getAndIncrement()),
                    Date.from(notAfter.minusSeconds(2 * 86_400)), Date.from(notAfter), subject, key);
            if (ca) {
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            }
            return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA")
                    .build(signer.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
