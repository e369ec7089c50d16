package dev.meshhub.admin.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's bearer token: read from its file, or generated into it (owner-only) at first start.
 */
final class AdminToken {

    private static final Logger LOG = LoggerFactory.getLogger(AdminToken.class);
    static final String PREFIX = "mha.";
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private final byte[] token;
    private final Path file;

    private AdminToken(byte[] token, Path file) {
        this.token = token;
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** Loads the token from {@code file}, creating the file with a fresh token if it does not exist. */
    static AdminToken loadOrCreate(Path file) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        if (Files.exists(file)) {
            String value = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (value.length() < 32) {
                throw new IllegalStateException("admin token file " + file + " holds no usable token (under 32 characters); "
                        + "delete it and restart the hub to generate a new one");
            }
            if (posix && !Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
                LOG.warn("admin token file {} was readable by others; restricting it to its owner", file);
                Files.setPosixFilePermissions(file, OWNER_ONLY);
            }
            return new AdminToken(value.getBytes(StandardCharsets.US_ASCII), file);
        }
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String value = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path temp = posix
                ? Files.createTempFile(file.toAbsolutePath().getParent(), ".admin-token", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY))
                : Files.createTempFile(file.toAbsolutePath().getParent(), ".admin-token", ".tmp");
        try {
            Files.writeString(temp, value + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        LOG.info("generated the admin API token into {} (owner-only)", file);
        return new AdminToken(value.getBytes(StandardCharsets.US_ASCII), file);
    }

    /** Constant-time comparison with a presented token. */
    boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.US_ASCII));
    }
}
