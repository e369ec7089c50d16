package dev.meshhub.pki.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.pki.PkiException;

/**
 * The CA key pairs in the PKI directory and the moves of a CA rotation, each step leaving a state
 * the next open understands: {@code ca.*} is the CA the node port serves with; {@code next-ca.*}
 * the CA a rotation introduced. Starting a rotation writes {@code next-ca.crt} then
 * {@code next-ca.key}; retiring moves {@code next-ca.crt} then {@code next-ca.key} over {@code ca.*}.
 * So a lone {@code next-ca.crt} is a start that never finished (nothing was issued by it) and a lone
 * {@code next-ca.key} a retirement that did.
 */
final class CaFiles {

    static final String NEXT_KEY = "next-ca.key";
    static final String NEXT_CERT = "next-ca.crt";
    static final String RETIRED = "retired";
    static final String HUB_ID = "hub-id";
    private static final Logger LOG = LoggerFactory.getLogger(CaFiles.class);

    /** A CA: its certificate, key and pin. */
    record Authority(X509Certificate certificate, PrivateKey key, String pin) {
        Authority(X509Certificate certificate, PrivateKey key) {
            this(certificate, key, HubCa.pin(certificate));
        }
    }

    private CaFiles() {
    }

    /** The hub's id (in its server certificate's URI): kept in {@code hub-id}, so it outlives a CA rotation. */
    static String hubId(Path directory, String pin) throws PkiException {
        Path file = directory.resolve(HUB_ID);
        try {
            if (Files.exists(file)) {
                String kept = text(file).strip();
                if (kept.matches("[0-9a-f]{16}")) {
                    return kept;
                }
            }
            String id = pin.substring("sha256:".length(), "sha256:".length() + 16);
            OwnerOnlyFiles.write(file, (id + "\n").getBytes(StandardCharsets.US_ASCII));
            return id;
        } catch (IOException e) {
            throw unavailable("cannot read or write " + file + ": " + e, e);
        }
    }

    /** Writes a new CA as {@code keyName}/{@code certName}, in the order the caller's crash rule needs. */
    static void write(Path directory, Authority authority, String first, String second) throws IOException {
        for (String name : List.of(first, second)) {
            boolean key = name.endsWith(".key");
            OwnerOnlyFiles.write(directory.resolve(name), Pem.bytes(key ? Pem.privateKey(authority.key())
                    : Pem.certificates(List.of(authority.certificate()))));
        }
    }

    /** Reads a key pair, refusing (naming the file) one that cannot be read or does not match. */
    static Authority read(Path directory, String keyName, String certName) throws PkiException {
        Path keyFile = directory.resolve(keyName);
        Path certFile = directory.resolve(certName);
        PrivateKey key;
        X509Certificate certificate;
        try {
            key = Pem.readPrivateKey(text(keyFile));
        } catch (IOException e) {
            throw unreadable(keyFile, e, directory);
        }
        try {
            certificate = Pem.readCertificates(text(certFile)).get(0);
        } catch (IOException e) {
            throw unreadable(certFile, e, directory);
        }
        if (!matches(key, certificate.getPublicKey())) {
            throw unavailable(keyFile + " is not the key of the CA in " + certFile + ": restore the pair from one backup, or"
                    + " move " + directory + " away to start a new CA (every node must then enroll again)", null);
        }
        return new Authority(certificate, key);
    }

    /**
     * Settles a rotation step a crash interrupted, before the CA is opened.
     *
     * @throws PkiException when the files fit no state a rotation leaves
     */
    static void settleInterrupted(Path directory) throws PkiException {
        Path nextKey = directory.resolve(NEXT_KEY);
        Path nextCert = directory.resolve(NEXT_CERT);
        boolean hasKey = Files.exists(nextKey);
        boolean hasCert = Files.exists(nextCert);
        try {
            if (hasCert && !hasKey) {
                Files.delete(nextCert);
                LOG.warn("{} was left by a CA rotation that never started (no key beside it): removed", nextCert);
            } else if (hasKey && !hasCert) {
                Authority serving = read(directory, NEXT_KEY, HubCa.CA_CERT);
                Files.move(nextKey, directory.resolve(HubCa.CA_KEY), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                LOG.warn("finished the retirement of the old CA that a stop interrupted; serving with {}", serving.pin());
            }
        } catch (IOException e) {
            throw unavailable("cannot settle the interrupted CA rotation in " + directory + ": " + e, e);
        }
    }

    /** The retirement's moves: keeps the old CA's certificate, then puts the next CA in place of it. */
    static void retire(Path directory, Authority old, Instant at) throws IOException {
        Path retired = directory.resolve(RETIRED);
        OwnerOnlyFiles.ensureDirectory(retired);
        OwnerOnlyFiles.write(retired.resolve("ca-" + at.toEpochMilli() + ".crt"), Pem.bytes(Pem.certificates(List.of(old.certificate()))));
        Files.move(directory.resolve(NEXT_CERT), directory.resolve(HubCa.CA_CERT), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        Files.move(directory.resolve(NEXT_KEY), directory.resolve(HubCa.CA_KEY), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /** Whether {@code key} is the private half of {@code publicKey}: a signature made with one verifies with the other. */
    static boolean matches(PrivateKey key, PublicKey publicKey) {
        try {
            byte[] probe = "meshhub key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    static String text(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException("it is a directory");
        }
        return Files.readString(file, StandardCharsets.US_ASCII);
    }

    static PkiException unreadable(Path file, IOException e, Path directory) {
        String why = e instanceof AccessDeniedException ? "permission denied" : e.getMessage();
        return unavailable("cannot read " + file + " (" + why + "): fix it or restore it from a backup (every enrolled node"
                + " trusts this CA), or move " + directory + " away to start a new CA (every node must then enroll again);"
                + " no new CA is made in its place", e);
    }

    static PkiException unavailable(String message, Throwable cause) {
        return new PkiException(PkiException.Reason.UNAVAILABLE, message, cause);
    }
}
