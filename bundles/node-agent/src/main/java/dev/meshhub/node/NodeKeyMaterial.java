package dev.meshhub.node;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import com.google.protobuf.ByteString;

/**
 * The node's certificate identity: its own private key (generated here, never sent), the
 * certificate the hub issued for it (then the issuing CA), and the CAs it trusts the hub by.
 */
record NodeKeyMaterial(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trust) {

    NodeKeyMaterial {
        chain = List.copyOf(chain);
        trust = List.copyOf(trust);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no certificate");
        }
    }

    /** A new EC P-256 key pair for this node. */
    static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
        }
    }

    /** A PKCS#10 request (DER) for the key pair, asking for no name: the hub writes the identity. */
    static byte[] csr(KeyPair keys, String subject) {
        try {
            String cn = subject == null || subject.isBlank() ? "meshnode" : subject.replaceAll("[^A-Za-z0-9._-]", "_");
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot sign the node's certificate request", e);
        }
    }

    /** Certificates sent as DER (the wire's {@code certificate_chain}, {@code trust_bundle}). */
    static List<X509Certificate> fromDer(List<ByteString> encoded) throws CertificateException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> certificates = new ArrayList<>();
        for (ByteString der : encoded) {
            certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
        }
        return certificates;
    }

    X509Certificate certificate() {
        return chain.get(0);
    }

    Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    /** The key manager the node's TLS presents this certificate with. */
    KeyManager[] keyManagers() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = "meshnode".toCharArray();
            store.setKeyEntry("node", key, password, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, password);
            return factory.getKeyManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot load the node's key and certificate into TLS", e);
        }
    }
}
