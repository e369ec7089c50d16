package dev.meshhub.pki.impl;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** CSRs as a node (or an attacker) would make them. */
final class Csrs {

    private Csrs() {
    }

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    /** A key on {@code curve}: from the JDK as a node makes it, from BouncyCastle for curves the JDK lacks (secp256k1). */
    static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        try {
            generator.initialize(new ECGenParameterSpec(curve));
        } catch (java.security.InvalidAlgorithmParameterException notInTheJdk) {
            generator = KeyPairGenerator.getInstance("EC", BC);
            generator.initialize(new ECGenParameterSpec(curve));
        }
        return generator.generateKeyPair();
    }

    static KeyPair rsa(int bits) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(bits);
        return generator.generateKeyPair();
    }

    /** A CSR for {@code keys}, signed by {@code signer}, asking for {@code uris} (may be none). */
    static byte[] csr(KeyPair keys, KeyPair signer, String... uris) throws Exception {
        PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=whoever"), keys.getPublic());
        if (uris.length > 0) {
            GeneralName[] names = new GeneralName[uris.length];
            for (int i = 0; i < uris.length; i++) {
                names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
            }
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
        }
        String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return builder.build(new JcaContentSignerBuilder(algorithm).setProvider(BC).build(signer.getPrivate())).getEncoded();
    }

    static byte[] csr(KeyPair keys, String... uris) throws Exception {
        return csr(keys, keys, uris);
    }
}
