package dev.meshhub.runtime.it;

import java.io.ByteArrayInputStream;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import com.google.protobuf.ByteString;

/** What a node does with keys and certificates, as tests need it: key pairs, CSRs, key managers. */
final class TestCertificates {

    private TestCertificates() {
    }

    static KeyPair keys(String curve) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(curve));
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CSR for {@code keys}, naming {@code uri} as its URI SAN when not null. */
    static byte[] csr(KeyPair keys, String uri) {
        try {
            JcaPKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=node"), keys.getPublic());
            if (uri != null) {
                var extensions = new org.bouncycastle.asn1.x509.ExtensionsGenerator();
                extensions.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
                builder.addAttribute(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
            }
            return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CSR for a fresh P-256 key nobody keeps, for tests that only need an enrollment to be well formed. */
    static ByteString throwawayCsr() {
        return ByteString.copyFrom(csr(keys("secp256r1"), null));
    }

    static List<X509Certificate> der(List<ByteString> encoded) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> certificates = new ArrayList<>();
            for (ByteString bytes : encoded) {
                certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(bytes.toByteArray())));
            }
            return certificates;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Key managers that present {@code chain} with {@code key} whatever CAs the hub asks for, as an
     * attacker's client would: the hub must judge the chain itself.
     */
    static KeyManager[] keyManagers(PrivateKey key, List<X509Certificate> chain) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            // The key store holds the leaf only (it would refuse a chain that does not link up).
            store.setKeyEntry("node", key, "x".toCharArray(), new X509Certificate[] {chain.get(0)});
            X509Certificate[] presented = chain.toArray(new X509Certificate[0]);
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, "x".toCharArray());
            javax.net.ssl.X509ExtendedKeyManager real = (javax.net.ssl.X509ExtendedKeyManager) factory.getKeyManagers()[0];
            return new KeyManager[] {new javax.net.ssl.X509ExtendedKeyManager() {
                @Override
                public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
                    return "node";
                }

                @Override
                public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
                    return "node";
                }

                @Override
                public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
                    return new String[] {"node"};
                }

                @Override
                public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
                    return null;
                }

                @Override
                public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
                    return null;
                }

                @Override
                public X509Certificate[] getCertificateChain(String alias) {
                    return presented.clone();
                }

                @Override
                public PrivateKey getPrivateKey(String alias) {
                    return real.getPrivateKey(alias);
                }
            }};
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
