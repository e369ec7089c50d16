package dev.meshhub.bench;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import com.google.protobuf.ByteString;

/** A simulated node's key pair, its CSR, and key managers presenting the certificate the hub issued. */
final class NodeKeys {

    final KeyPair keys;

    NodeKeys() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            keys = generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no EC P-256 in this JDK", e);
        }
    }

    /** A PKCS#10 request for this key (the hub writes the node's identity itself). */
    ByteString csr(String name) {
        try {
            return ByteString.copyFrom(new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + name.replaceAll("[^A-Za-z0-9_-]", "_")),
                    keys.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded());
        } catch (OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("cannot make a CSR", e);
        }
    }

    /** Key managers presenting {@code chain} (DER, leaf first, as the hub answered) with this key. */
    KeyManagerFactory keyManagers(List<ByteString> chain) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            X509Certificate[] certificates = new X509Certificate[chain.size()];
            for (int i = 0; i < certificates.length; i++) {
                certificates[i] = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(chain.get(i).toByteArray()));
            }
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("node", keys.getPrivate(), new char[0], certificates);
            KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            managers.init(store, new char[0]);
            return managers;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot use the certificate the hub issued", e);
        }
    }
}
