package dev.meshhub.pki.impl;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Files only their owner may read: written whole to a temporary file created owner-only, forced to
 * disk, then moved into place, so a reader never sees half a key and no other user ever could.
 */
final class OwnerOnlyFiles {

    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private OwnerOnlyFiles() {
    }

    /** Creates the directory owner-only if it is missing; tightens it (and says so) if others may enter. */
    static boolean ensureDirectory(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            if (POSIX) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(DIRECTORY));
            } else {
                Files.createDirectories(directory);
            }
            return false;
        }
        if (POSIX && !Files.getPosixFilePermissions(directory).equals(DIRECTORY)) {
            Files.setPosixFilePermissions(directory, DIRECTORY);
            return true;
        }
        return false;
    }

    /** Replaces {@code target} with {@code content}, owner-only, atomically. */
    static void write(Path target, byte[] content) throws IOException {
        Path directory = target.toAbsolutePath().getParent();
        FileAttribute<?>[] attributes = POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)}
                : new FileAttribute<?>[0];
        Path temp = Files.createTempFile(directory, "." + target.getFileName() + "-", ".tmp", attributes);
        boolean moved = false;
        try {
            try (FileChannel out = FileChannel.open(temp, EnumSet.of(StandardOpenOption.WRITE))) {
                ByteBuffer data = ByteBuffer.wrap(content);
                while (data.hasRemaining()) {
                    out.write(data);
                }
                out.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** Whether others than the owner may read or write {@code file} (false where POSIX permissions do not exist). */
    static boolean openToOthers(Path file) throws IOException {
        if (!POSIX) {
            return false;
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        return permissions.stream().anyMatch(p -> !FILE.contains(p) && p != PosixFilePermission.OWNER_EXECUTE);
    }

    /** Makes an existing file owner-only. */
    static void tighten(Path file) throws IOException {
        if (POSIX) {
            Files.setPosixFilePermissions(file, FILE);
        }
    }
}
