package dev.meshhub.pki.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.pki.CaRotation;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.IssuedCertificate;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.api.pki.ServerIdentity;

/**
 * The hub's CA as it stands in one directory ({@code data/pki/}): opened once (created if the
 * directory holds no CA at all), then issuing. The server certificate is renewed in place
 * ({@link #renewServerIfDue}) and read lock-free. A CA rotation ({@link #rotate}) adds a next CA,
 * which issues node certificates while the node port still serves with the current one, until
 * {@link #retire} makes it the only one (file moves in {@link CaFiles}).
 *
 * <p>A directory that holds part of a CA (a certificate without its key, a key without its
 * certificate, a key that does not match, a file that cannot be read) is refused, naming the file:
 * making a new CA there would silently orphan every enrolled node.
 */
final class HubCa {

    static final String CA_KEY = "ca.key";
    static final String CA_CERT = "ca.crt";
    static final String SERVER_KEY = "server.key";
    static final String SERVER_CERT = "server.crt";
    static final String TRUST = "trust.pem";
    static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Logger LOG = LoggerFactory.getLogger(HubCa.class);

    /**
     * What the CA is opened with.
     *
     * @param directory      where the files are
     * @param names          the server certificate's names
     * @param serverLifetime how long a server certificate is valid
     * @param nodeLifetime   how long a node certificate is valid
     * @param retireGrace    how long after its start a CA rotation retires the old CA at the latest
     */
    record Settings(Path directory, ServerNames names, Duration serverLifetime, Duration nodeLifetime, Duration retireGrace) {
    }


    private final Path directory;
    private final Clock clock;
    private final CertificateFactory factory;
    private final String hubId;
    private volatile Settings settings;
    private volatile ServerIdentity server;
    /** The CA the node port serves with. */
    private volatile CaFiles.Authority serving;
    /** The CA a rotation in progress introduced (it issues node certificates), or null. */
    private volatile CaFiles.Authority next;

    private HubCa(Settings settings, Clock clock, CertificateFactory factory, CaFiles.Authority serving) throws PkiException {
        this.directory = settings.directory();
        this.settings = settings;
        this.clock = clock;
        this.factory = factory;
        this.serving = serving;
        this.hubId = CaFiles.hubId(directory, serving.pin());
    }

    /**
     * Opens the CA in {@code settings.directory()}, creating it if the directory holds none; makes sure a
     * valid server certificate and the trust bundle are there.
     *
     * @throws PkiException UNAVAILABLE, naming the file, when the directory holds a broken or partial CA
     */
    static HubCa open(Settings settings, Clock clock) throws PkiException {
        Path directory = settings.directory();
        CertificateFactory factory = new CertificateFactory();
        try {
            if (OwnerOnlyFiles.ensureDirectory(directory)) {
                LOG.warn("{} was open to other users; it is owner-only (0700) now", directory);
            }
        } catch (IOException e) {
            throw unavailable("cannot create or secure the PKI directory " + directory + ": " + e, e);
        }
        CaFiles.settleInterrupted(directory);
        Path keyFile = directory.resolve(CA_KEY);
        Path certFile = directory.resolve(CA_CERT);
        boolean hasKey = Files.exists(keyFile);
        boolean hasCert = Files.exists(certFile);
        HubCa opened;
        if (!hasKey && !hasCert) {
            for (String trace : List.of(TRUST, SERVER_CERT, SERVER_KEY)) {
                if (Files.exists(directory.resolve(trace))) {
                    throw unavailable(certFile + " and " + keyFile + " are missing, but " + directory.resolve(trace)
                            + " shows this hub had a CA: restore both from a backup (every enrolled node trusts that CA),"
                            + " or move " + directory + " away to start a new CA (every node must then enroll again)", null);
                }
            }
            opened = create(settings, clock, factory);
        } else if (!hasKey || !hasCert) {
            Path missing = hasKey ? certFile : keyFile;
            throw unavailable(missing + " is missing but " + (hasKey ? keyFile : certFile) + " exists: the hub's CA is"
                    + " incomplete. Restore " + missing + " from a backup (every enrolled node trusts this CA), or move "
                    + directory + " away to start a new CA (every node must then enroll again); no new CA is made in its"
                    + " place", null);
        } else {
            opened = load(settings, clock, factory, keyFile, certFile);
        }
        if (Files.exists(directory.resolve(CaFiles.NEXT_KEY))) {
            opened.next = CaFiles.read(directory, CaFiles.NEXT_KEY, CaFiles.NEXT_CERT);
            LOG.info("a CA rotation is in progress: new CA {} issues node certificates, the node port serves with {}",
                    opened.next.pin(), opened.serving.pin());
        }
        opened.writeTrustBundle();
        opened.loadOrIssueServer();
        return opened;
    }

    private static HubCa create(Settings settings, Clock clock, CertificateFactory factory) throws PkiException {
        KeyPair keys = factory.newKeyPair();
        Instant now = clock.instant();
        X509Certificate ca = factory.ca(keys, "meshhub CA " + now.getEpochSecond(), now, CA_LIFETIME);
        try {
            // The key first: a crash between the two leaves a key without a certificate, which open() refuses
            // rather than replaces; a certificate without its key would be worse (nothing could sign).
            OwnerOnlyFiles.write(settings.directory().resolve(CA_KEY), Pem.bytes(Pem.privateKey(keys.getPrivate())));
            OwnerOnlyFiles.write(settings.directory().resolve(CA_CERT), Pem.bytes(Pem.certificates(List.of(ca))));
        } catch (IOException e) {
            throw unavailable("cannot write the new CA into " + settings.directory() + ": " + e, e);
        }
        HubCa created = new HubCa(settings, clock, factory, new CaFiles.Authority(ca, keys.getPrivate()));
        LOG.info("created the hub CA in {} (pin {}); nodes join with --ca-pin {}", settings.directory(), created.pin(), created.pin());
        return created;
    }

    private static HubCa load(Settings settings, Clock clock, CertificateFactory factory, Path keyFile, Path certFile)
            throws PkiException {
        CaFiles.Authority authority = CaFiles.read(settings.directory(), CA_KEY, CA_CERT);
        X509Certificate ca = authority.certificate();
        if (ca.getNotAfter().toInstant().isBefore(clock.instant())) {
            throw unavailable("the hub CA in " + certFile + " expired on " + ca.getNotAfter().toInstant() + "; move "
                    + settings.directory() + " away to start a new CA (every node must then enroll again)", null);
        }
        try {
            for (Path file : List.of(keyFile, certFile)) {
                if (OwnerOnlyFiles.openToOthers(file)) {
                    OwnerOnlyFiles.tighten(file);
                    LOG.warn("{} was readable by other users; it is owner-only (0600) now", file);
                }
            }
        } catch (IOException e) {
            throw unavailable("cannot secure " + keyFile + ": " + e, e);
        }
        HubCa loaded = new HubCa(settings, clock, factory, authority);
        LOG.info("hub CA loaded from {} (pin {})", settings.directory(), loaded.pin());
        return loaded;
    }

    /** The CA's pin: {@code sha256:} + hex SHA-256 of its SubjectPublicKeyInfo. */
    static String pin(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded());
            return "sha256:" + HexFormat.of().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    String pin() {
        return serving.pin();
    }

    List<X509Certificate> trustBundle() {
        CaFiles.Authority rotating = next;
        return rotating == null ? List.of(serving.certificate()) : List.of(serving.certificate(), rotating.certificate());
    }

    /** The rotation in progress, if any. */
    Optional<CaRotation> rotation() {
        CaFiles.Authority rotating = next;
        if (rotating == null) {
            return Optional.empty();
        }
        Instant started = rotating.certificate().getNotBefore().toInstant().plus(CertificateFactory.BACKDATE);
        Duration grace = settings.retireGrace().isZero() ? settings.nodeLifetime() : settings.retireGrace();
        return Optional.of(new CaRotation(serving.certificate(), rotating.certificate(), rotating.pin(), started, started.plus(grace)));
    }

    /**
     * Starts a rotation: a new CA, written (certificate, then key) beside the current one, in the trust
     * bundle and issuing node certificates from now on.
     */
    synchronized CaRotation rotate() throws PkiException {
        if (next != null) {
            throw new PkiException(PkiException.Reason.BAD_REQUEST, "a CA rotation is already running (new CA " + next.pin()
                    + "); it ends when every node holds a certificate of the new CA, or finish it with meshctl ca rotate --finish");
        }
        KeyPair keys = factory.newKeyPair();
        Instant now = clock.instant();
        X509Certificate ca = factory.ca(keys, "meshhub CA " + now.toEpochMilli() + " " + HexFormat.of().formatHex(
                keys.getPublic().getEncoded(), keys.getPublic().getEncoded().length - 4, keys.getPublic().getEncoded().length), now, CA_LIFETIME);
        CaFiles.Authority rotating = new CaFiles.Authority(ca, keys.getPrivate());
        try {
            CaFiles.write(directory, rotating, CaFiles.NEXT_CERT, CaFiles.NEXT_KEY);
        } catch (IOException e) {
            throw unavailable("cannot write the new CA into " + directory + ": " + e, e);
        }
        next = rotating;
        writeTrustBundle();
        LOG.info("CA rotation started: new CA {} issues node certificates from now on; the node port serves with {} until the"
                + " old CA is retired", rotating.pin(), serving.pin());
        return rotation().orElseThrow();
    }

    /** Retires the old CA: the next one serves and issues alone, and the node port gets a certificate from it. */
    synchronized boolean retire() throws PkiException {
        CaFiles.Authority rotating = next;
        if (rotating == null) {
            return false;
        }
        CaFiles.Authority old = serving;
        try {
            CaFiles.retire(directory, old, clock.instant());
        } catch (IOException e) {
            throw unavailable("cannot retire the old CA in " + directory + " (the rotation stays as it was): " + e, e);
        }
        serving = rotating;
        next = null;
        writeTrustBundle();
        issueServer("the CA rotated");
        LOG.info("CA rotation finished: old CA {} retired (its certificate kept in {}/), the hub serves and issues with {}",
                old.pin(), CaFiles.RETIRED, rotating.pin());
        return true;
    }

    ServerIdentity server() {
        return server;
    }

    Path directory() {
        return directory;
    }

    /**
     * New names or lifetimes; a new server certificate at once if the names changed.
     *
     * @throws PkiException when the new server certificate cannot be written
     */
    void reconfigure(Settings next) throws PkiException {
        boolean namesChanged = !next.names().equals(settings.names());
        settings = next;
        if (namesChanged) {
            issueServer("its names changed");
        }
    }

    /**
     * Issues a new server certificate when two thirds of the current one's lifetime have passed.
     *
     * @return whether it did
     * @throws PkiException when the new certificate cannot be written (the current one stays in use)
     */
    boolean renewServerIfDue() throws PkiException {
        X509Certificate current = server.certificate();
        if (!clock.instant().isBefore(renewalTime(current))) {
            issueServer("two thirds of its lifetime have passed (valid until " + current.getNotAfter().toInstant() + ")");
            return true;
        }
        return false;
    }

    /** When a certificate is due for renewal: at two thirds of its lifetime. */
    static Instant renewalTime(X509Certificate certificate) {
        Instant from = certificate.getNotBefore().toInstant();
        Duration lifetime = Duration.between(from, certificate.getNotAfter().toInstant());
        return from.plus(lifetime.multipliedBy(2).dividedBy(3));
    }

    IssuedCertificate issue(String nodeId, String nodeName, byte[] csr) throws PkiException {
        if (nodeId == null || !NodeUris.NODE_ID.matcher(nodeId).matches()) {
            throw new PkiException(PkiException.Reason.BAD_REQUEST, "not a node id: " + nodeId);
        }
        PublicKey key = CsrCheck.publicKey(csr, nodeId);
        CaFiles.Authority rotating = next;
        CaFiles.Authority issuer = rotating != null ? rotating : serving;
        X509Certificate certificate = factory.node(key, nodeId, nodeName == null || nodeName.isBlank() ? nodeId : nodeName,
                issuer.certificate(), issuer.key(), clock.instant(), settings.nodeLifetime());
        return new IssuedCertificate(List.of(certificate, issuer.certificate()), trustBundle());
    }

    /** The node id of a node certificate ({@code meshhub://node/<id>}), else empty. */
    static Optional<String> nodeIdOf(X509Certificate certificate) {
        return NodeUris.nodeIdOf(certificate);
    }

    private void writeTrustBundle() throws PkiException {
        Path file = directory.resolve(TRUST);
        String bundle = Pem.certificates(trustBundle());
        try {
            if (!Files.exists(file) || !Files.readString(file, StandardCharsets.US_ASCII).equals(bundle)) {
                OwnerOnlyFiles.write(file, Pem.bytes(bundle));
            }
        } catch (IOException e) {
            throw unavailable("cannot write the trust bundle " + file + ": " + e, e);
        }
    }

    /** The server certificate on disk if it is this CA's, for these names, and not due; else a new one. */
    private void loadOrIssueServer() throws PkiException {
        Path keyFile = directory.resolve(SERVER_KEY);
        Path certFile = directory.resolve(SERVER_CERT);
        if (!Files.exists(keyFile) || !Files.exists(certFile)) {
            issueServer("there was none");
            return;
        }
        String unusable;
        try {
            PrivateKey key = Pem.readPrivateKey(read(keyFile));
            X509Certificate certificate = Pem.readCertificates(read(certFile)).get(0);
            unusable = unusable(key, certificate);
            if (unusable == null) {
                server = new ServerIdentity(key, List.of(certificate, serving.certificate()));
                return;
            }
        } catch (IOException e) {
            unusable = "it could not be read (" + e.getMessage() + ")";
        }
        issueServer("the one in " + certFile + " is unusable: " + unusable);
    }

    private String unusable(PrivateKey key, X509Certificate certificate) {
        if (!CaFiles.matches(key, certificate.getPublicKey())) {
            return "its key does not match";
        }
        try {
            certificate.verify(serving.certificate().getPublicKey());
        } catch (GeneralSecurityException e) {
            return "it was not issued by this CA";
        }
        if (!clock.instant().isBefore(renewalTime(certificate))) {
            return "two thirds of its lifetime have passed";
        }
        ServerNames names = settings.names();
        List<String> expected = new ArrayList<>(List.of(HubPki.HUB_URI_PREFIX + hubId));
        expected.addAll(names.dnsNames());
        expected.addAll(names.ipAddresses());
        List<String> actual = new ArrayList<>();
        try {
            for (List<?> name : certificate.getSubjectAlternativeNames()) {
                actual.add(String.valueOf(name.get(1)));
            }
        } catch (CertificateParsingException | NullPointerException e) {
            return "its names cannot be read";
        }
        return actual.equals(expected) ? null : "its names " + actual + " are not the configured " + expected;
    }

    private void issueServer(String why) throws PkiException {
        KeyPair keys = factory.newKeyPair();
        Settings now = settings;
        CaFiles.Authority ca = serving;
        X509Certificate certificate = factory.server(keys.getPublic(), hubId, now.names().dnsNames(), now.names().ipAddresses(),
                ca.certificate(), ca.key(), clock.instant(), now.serverLifetime());
        try {
            OwnerOnlyFiles.write(directory.resolve(SERVER_KEY), Pem.bytes(Pem.privateKey(keys.getPrivate())));
            OwnerOnlyFiles.write(directory.resolve(SERVER_CERT), Pem.bytes(Pem.certificates(List.of(certificate, ca.certificate()))));
        } catch (IOException e) {
            throw unavailable("cannot write the new server certificate into " + directory + ": " + e, e);
        }
        server = new ServerIdentity(keys.getPrivate(), List.of(certificate, ca.certificate()));
        LOG.info("new server certificate for the node port ({}): valid until {}, names {} {}", why,
                certificate.getNotAfter().toInstant(), now.names().dnsNames(), now.names().ipAddresses());
    }

    private static String read(Path file) throws IOException {
        return CaFiles.text(file);
    }

    private static PkiException unreadable(Path file, IOException e, Path directory) {
        return CaFiles.unreadable(file, e, directory);
    }

    private static PkiException unavailable(String message, Throwable cause) {
        return new PkiException(PkiException.Reason.UNAVAILABLE, message, cause);
    }
}
