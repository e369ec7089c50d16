package dev.meshhub.pki.impl;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM text of certificates and PKCS#8 private keys, through BouncyCastle's PEM reader and writer. */
final class Pem {

    private Pem() {
    }

    /** Certificates as PEM, one block each, in order. */
    static String certificates(List<X509Certificate> certificates) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : certificates) {
                pem.writeObject(certificate);
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing PEM to memory failed", e);
        }
        return text.toString();
    }

    /** A private key as unencrypted PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}). */
    static String privateKey(PrivateKey key) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            pem.writeObject(new JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new IllegalStateException("writing a PEM key to memory failed", e);
        }
        return text.toString();
    }

    /**
     * Every certificate in PEM text.
     *
     * @throws IOException when the text holds anything else, or no certificate at all
     */
    static List<X509Certificate> readCertificates(String text) throws IOException {
        List<X509Certificate> certificates = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object block = parser.readObject(); block != null; block = parser.readObject()) {
                if (!(block instanceof X509CertificateHolder holder)) {
                    throw new IOException("expected only certificates, found " + block.getClass().getSimpleName());
                }
                certificates.add(new JcaX509CertificateConverter().getCertificate(holder));
            }
        } catch (CertificateException | RuntimeException e) {
            throw new IOException("not a PEM certificate: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IOException("no PEM certificate in it");
        }
        return certificates;
    }

    /**
     * The one PKCS#8 private key in PEM text.
     *
     * @throws IOException when the text holds no key, or something else
     */
    static PrivateKey readPrivateKey(String text) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            Object block = parser.readObject();
            if (!(block instanceof PrivateKeyInfo info)) {
                throw new IOException(block == null ? "no PEM private key in it"
                        : "expected a PKCS#8 private key, found " + block.getClass().getSimpleName());
            }
            return new JcaPEMKeyConverter().getPrivateKey(info);
        } catch (RuntimeException e) {
            throw new IOException("not a PEM private key: " + e.getMessage(), e);
        }
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
