package dev.meshhub.pki.impl;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.meshhub.api.pki.HubPki;

/**
 * Makes the hub's keys and certificates: the CA (self-signed), the node port's server certificate and
 * node certificates. ECDSA P-256 with SHA-256 throughout, random 127-bit serials, and every
 * certificate valid from {@link #BACKDATE} before now, so that a peer whose clock is a few minutes
 * behind still accepts it.
 */
final class CertificateFactory {

    /** How far back a certificate's validity starts: a peer's clock may be this much behind. */
    static final Duration BACKDATE = Duration.ofMinutes(5);
    static final String CURVE = "secp256r1";
    private static final String SIGNATURE = "SHA256withECDSA";

    private final SecureRandom random = new SecureRandom();

    /** A new ECDSA P-256 key pair. */
    KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(CURVE), random);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
        }
    }

    /** The hub CA: self-signed, {@code CA:true, pathlen 0}, may sign certificates and CRLs only. */
    X509Certificate ca(KeyPair keys, String commonName, Instant now, Duration lifetime) {
        X500Name name = name(commonName);
        X509v3CertificateBuilder builder = builder(name, name, keys.getPublic(), now, lifetime);
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keys.getPublic()));
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("building the CA certificate failed", e);
        }
        return sign(builder, keys.getPrivate());
    }

    /**
     * The node port's certificate: server authentication only; subject alternative names: the hub's URI,
     * then {@code dnsNames} and {@code ipAddresses}.
     */
    X509Certificate server(PublicKey key, String hubId, List<String> dnsNames, List<String> ipAddresses, X509Certificate ca,
            PrivateKey caKey, Instant now, Duration lifetime) {
        GeneralName[] names = new GeneralName[1 + dnsNames.size() + ipAddresses.size()];
        int i = 0;
        names[i++] = new GeneralName(GeneralName.uniformResourceIdentifier, HubPki.HUB_URI_PREFIX + hubId);
        for (String dns : dnsNames) {
            names[i++] = new GeneralName(GeneralName.dNSName, dns);
        }
        for (String ip : ipAddresses) {
            names[i++] = new GeneralName(GeneralName.iPAddress, ip);
        }
        return leaf(key, "meshhub hub " + hubId, new GeneralNames(names), KeyPurposeId.id_kp_serverAuth,
                KeyUsage.digitalSignature, ca, caKey, now, lifetime);
    }

    /** A node's certificate: client authentication only; its one name is {@code meshhub://node/<nodeId>}. */
    X509Certificate node(PublicKey key, String nodeId, String nodeName, X509Certificate ca, PrivateKey caKey, Instant now,
            Duration lifetime) {
        GeneralNames names = new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, HubPki.NODE_URI_PREFIX + nodeId));
        return leaf(key, nodeName, names, KeyPurposeId.id_kp_clientAuth, KeyUsage.digitalSignature, ca, caKey, now, lifetime);
    }

    private X509Certificate leaf(PublicKey key, String commonName, GeneralNames names, KeyPurposeId purpose, int usage,
            X509Certificate ca, PrivateKey caKey, Instant now, Duration lifetime) {
        X509v3CertificateBuilder builder = builder(X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()),
                name(commonName), key, now, lifetime);
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            builder.addExtension(Extension.subjectAlternativeName, false, names);
            builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(key));
            builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(ca));
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("building a certificate for " + commonName + " failed", e);
        }
        return sign(builder, caKey);
    }

    private JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey key, Instant now, Duration lifetime) {
        BigInteger serial = new BigInteger(127, random).setBit(126); // positive, never short
        return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minus(BACKDATE)), Date.from(now.plus(lifetime)),
                subject, key);
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "meshhub").addRDN(BCStyle.CN, commonName).build();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException | java.security.cert.CertificateException e) {
            throw new IllegalStateException("signing a certificate failed", e);
        }
    }
}
