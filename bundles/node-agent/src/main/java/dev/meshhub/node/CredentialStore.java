package dev.meshhub.node;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The node's durable identity in its state directory ({@link StateDirectory}, outside the workspace):
 * the key, the certificate, the hub's CA, {@code node.properties} (id and name, not secret) and, for a
 * node enrolled before certificates, {@code credential} (the secret, one line) until it is traded.
 *
 * <p>The directory is owner-only (0700) and both files are 0600. Files are written atomically: a
 * temp file is created owner-only in the same directory, written and forced to disk, then moved
 * over the target, so a crash leaves either the old file or the new one, never a torn or
 * world-readable one. {@code node.properties} is written before {@code credential}: the credential
 * file's presence is what marks the node as enrolled.
 */
public final class CredentialStore {

    /** Name of the old place of the state inside the workspace; still refused by every path rule. */
    public static final String DIRECTORY = ".meshnode";
    /** The credential file. */
    public static final String CREDENTIAL_FILE = "credential";
    /** Id and name of the node. */
    public static final String PROPERTIES_FILE = "node.properties";
    /** The hub's CA(s), kept from the join that verified them (not secret, but owner-only like the rest). */
    public static final String HUB_CA_FILE = "hub-ca.pem";
    /** The node's private key (PKCS#8 PEM): generated on the node, never sent. */
    public static final String KEY_FILE = "node.key";
    /** The node's certificate, then the CA that issued it (PEM): its identity towards the hub. */
    public static final String CERTIFICATE_FILE = "node.crt";

    /** Shape of a credential per the wire contract; used to recover the node id if node.properties is lost. */
    static final Pattern CREDENTIAL_SHAPE = Pattern.compile("^mhc\\.(n-[0-9a-f]{12})\\.[A-Za-z0-9_-]{43}$");

    private static final Logger LOG = Logger.getLogger(CredentialStore.class.getName());
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

    private final Path directory;

    /** @param directory the state directory (see {@link StateDirectory}) */
    public CredentialStore(Path directory) {
        this.directory = directory.toAbsolutePath().normalize();
    }

    /** The state directory, absolute. */
    public Path directory() {
        return directory;
    }

    public Path credentialFile() {
        return directory.resolve(CREDENTIAL_FILE);
    }

    public Path propertiesFile() {
        return directory.resolve(PROPERTIES_FILE);
    }

    public Path hubCaFile() {
        return directory.resolve(HUB_CA_FILE);
    }

    public Path keyFile() {
        return directory.resolve(KEY_FILE);
    }

    public Path certificateFile() {
        return directory.resolve(CERTIFICATE_FILE);
    }

    /**
     * Keeps the node's certificate identity: the key first, then the hub's CAs, then the certificate
     * (its presence marks the node as holding one), each atomically and owner-only.
     */
    void saveCertificate(NodeKeyMaterial material) throws IOException {
        ensureDirectory();
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(material.key().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        writeAtomically(keyFile(), pem.getBytes(StandardCharsets.US_ASCII));
        if (!material.trust().isEmpty()) {
            saveHubCas(material.trust());
        }
        writeAtomically(certificateFile(), dev.meshhub.proto.v1.HubTrust.toPem(material.chain()).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The node's certificate identity, if it has one.
     *
     * @throws IOException naming the file when key or certificate cannot be read
     */
    Optional<NodeKeyMaterial> loadCertificate() throws IOException {
        if (!Files.exists(certificateFile())) {
            return Optional.empty();
        }
        java.util.List<java.security.cert.X509Certificate> chain = dev.meshhub.proto.v1.HubTrust.readPem(certificateFile());
        tightenPermissions(keyFile());
        String text;
        try {
            text = Files.readString(keyFile(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IOException("cannot read the node's key " + keyFile() + " (" + e + "); restore it, or delete " + directory
                    + " and enroll with a new invite token", e);
        }
        java.security.PrivateKey key;
        try {
            byte[] der = java.util.Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", ""));
            key = java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(keyFile() + " does not hold the node's EC key; delete " + directory
                    + " and enroll with a new invite token", e);
        }
        java.util.List<java.security.cert.X509Certificate> trust = loadHubCas().orElse(java.util.List.of());
        return Optional.of(new NodeKeyMaterial(key, chain, trust));
    }

    /** Removes the bearer credential once a certificate has replaced it. */
    void deleteCredential() throws IOException {
        Files.deleteIfExists(credentialFile());
    }

    /**
     * The hub CA(s) kept from an earlier verified connection, if any.
     *
     * @throws IOException naming the file when it exists but holds no certificate
     */
    public Optional<java.util.List<java.security.cert.X509Certificate>> loadHubCas() throws IOException {
        Path file = hubCaFile();
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(dev.meshhub.proto.v1.HubTrust.readPem(file));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "; delete it and start once with --ca-pin (meshctl ca pin prints it)", e);
        }
    }

    /** Keeps the hub's CA(s) for later connections (atomically, owner-only). */
    public void saveHubCas(java.util.List<java.security.cert.X509Certificate> cas) throws IOException {
        ensureDirectory();
        writeAtomically(hubCaFile(), dev.meshhub.proto.v1.HubTrust.toPem(cas).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Reads the stored identity, if there is one.
     *
     * @throws IOException when a credential file exists but cannot be read or is not a credential;
     *                     the message says which file and what to do
     */
    public Optional<NodeIdentity> load() throws IOException {
        Path file = credentialFile();
        if (!Files.exists(file)) {
            if (Files.exists(certificateFile()) && Files.exists(propertiesFile())) {
                Properties props = new Properties();
                props.load(new StringReader(Files.readString(propertiesFile(), StandardCharsets.UTF_8)));
                String nodeId = props.getProperty("node.id", "");
                if (!nodeId.isEmpty()) {
                    return Optional.of(new NodeIdentity(nodeId, props.getProperty("node.name", ""), ""));
                }
            }
            return Optional.empty();
        }
        String credential;
        try {
            credential = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new IOException("cannot read " + file + " (" + e + "); fix its permissions, or delete "
                    + directory + " and enroll with a new invite token", e);
        }
        if (!isUsableCredential(credential)) {
            throw new IOException(file + " does not hold a meshhub credential; delete " + directory
                    + " and enroll with a new invite token");
        }
        tightenPermissions(file);

        Properties props = new Properties();
        Path propsFile = propertiesFile();
        if (Files.exists(propsFile)) {
            props.load(new StringReader(Files.readString(propsFile, StandardCharsets.UTF_8)));
        }
        String nodeId = props.getProperty("node.id", "");
        if (nodeId.isEmpty()) {
            Matcher m = CREDENTIAL_SHAPE.matcher(credential);
            nodeId = m.matches() ? m.group(1) : "unknown-node";
        }
        return Optional.of(new NodeIdentity(nodeId, props.getProperty("node.name", ""), credential));
    }

    /**
     * Stores the identity: node.properties first, then the credential (none for a node that holds a
     * certificate), each atomically and owner-only.
     */
    public void save(NodeIdentity identity) throws IOException {
        if (identity.credential().isEmpty() ? !Files.exists(certificateFile()) : !isUsableCredential(identity.credential())) {
            throw new IOException("the hub sent neither a usable credential nor a certificate");
        }
        ensureDirectory();
        Properties props = new Properties();
        props.setProperty("node.id", identity.nodeId());
        props.setProperty("node.name", identity.name());
        StringWriter text = new StringWriter();
        props.store(text, "meshnode identity (not secret; the secret is in '" + CREDENTIAL_FILE + "')");
        writeAtomically(propertiesFile(), text.toString().getBytes(StandardCharsets.UTF_8));
        if (!identity.credential().isEmpty()) {
            writeAtomically(credentialFile(), (identity.credential() + "\n").getBytes(StandardCharsets.US_ASCII));
        }
    }

    /**
     * A credential is sent as a request header, so it must be printable ASCII without spaces; the
     * exact shape is the hub's business.
     */
    static boolean isUsableCredential(String s) {
        if (s == null || s.isEmpty() || s.length() > 4096) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    private boolean posix() {
        return directory.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private void ensureDirectory() throws IOException {
        if (Files.isDirectory(directory)) {
            if (posix() && !Files.getPosixFilePermissions(directory).equals(OWNER_ONLY_DIR)) {
                Files.setPosixFilePermissions(directory, OWNER_ONLY_DIR);
            }
            return;
        }
        Files.createDirectories(directory.getParent());
        if (posix()) {
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            // The umask can only remove bits, but make the mode explicit anyway.
            Files.setPosixFilePermissions(directory, OWNER_ONLY_DIR);
        } else {
            Files.createDirectory(directory);
        }
    }

    /** Temp file created owner-only beside the target, written, forced, then moved over the target. */
    void writeAtomically(Path target, byte[] content) throws IOException {
        Path dir = target.getParent();
        FileAttribute<?>[] attrs = posix()
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE)}
                : new FileAttribute<?>[0];
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + "-", ".tmp", attrs);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            forceDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Makes the rename durable where the platform allows opening a directory; best effort elsewhere. */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            // Not supported on every platform; the data itself is already forced.
        }
    }

    private void tightenPermissions(Path file) throws IOException {
        if (!posix() || !Files.exists(file)) {
            return;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (!perms.equals(OWNER_ONLY_FILE)) {
            LOG.warning(file + " had mode " + PosixFilePermissions.toString(perms) + "; setting it to rw-------");
            Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
        }
    }
}
