package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;

/** Small file operations the mirror's classes share. */
final class MirrorFiles {

    private static final Logger LOG = LoggerFactory.getLogger(MirrorFiles.class);
    private static final int READ_BUFFER = 64 * 1024;

    private MirrorFiles() {
    }

    static void prime(FileChannel channel, long size, MessageDigest digest) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(READ_BUFFER, Math.max(size, 1)));
        long position = 0;
        while (position < size) {
            buffer.clear();
            if (size - position < buffer.capacity()) {
                buffer.limit((int) (size - position));
            }
            int read = channel.read(buffer, position);
            if (read < 0) {
                throw new IOException("partial ended at " + position + " of " + size + " bytes while it was read");
            }
            buffer.flip();
            digest.update(buffer);
            position += read;
        }
    }

    static String readSidecar(Path sidecar) {
        try {
            byte[] bytes = Files.readAllBytes(sidecar);
            return MirrorPaths.quote(new String(bytes, 0, Math.min(bytes.length, MirrorPaths.MAX_PATH_BYTES),
                    StandardCharsets.UTF_8));
        } catch (IOException e) {
            return "(unknown path, " + sidecar.getFileName() + ")";
        }
    }

    static void touch(Path file, Instant when) {
        try {
            Files.setLastModifiedTime(file, FileTime.from(when));
        } catch (IOException e) {
            // Only shortens the time the partial is kept; never worth failing a close for.
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("could not delete {}: {}", file, e.toString());
        }
    }

    static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a partial's channel failed: {}", e.toString());
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    static MirrorException io(String what, IOException e) {
        return new MirrorException(Reason.IO, "could not " + what + ": " + e, e);
    }

    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
