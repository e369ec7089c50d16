package dev.meshhub.api.mirror;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One upload in progress, from {@link MirrorStore#openUpload}. Not thread-safe: one IO thread at a
 * time. {@link #close()} keeps what was written for a later resume; {@link #finish} makes the file
 * appear in the mirror; {@link #discard()} drops the partial.
 */
@ProviderType
public interface MirrorUpload extends AutoCloseable {

    String nodeId();

    /** The normalised node-relative path. */
    String path();

    /** Where the file will appear once finished. */
    Path destination();

    /** Bytes held so far: where the next write must start (the resume point). */
    long offset();

    /**
     * Appends bytes at {@code offset}. Disk work.
     *
     * @throws MirrorException BAD_OFFSET (with the expected offset) for a gap, overlap or duplicate;
     *                         QUOTA_EXCEEDED or DISK_RESERVE before anything is written; IO
     */
    void write(long offset, ByteBuffer data) throws MirrorException;

    /**
     * Verifies the whole file (size, then SHA-256), forces it to disk and moves it into place
     * atomically: readers see the old file or the new one, never a mix. On a mismatch the partial is
     * discarded and the destination left untouched. Disk work.
     *
     * @throws MirrorException SIZE_MISMATCH or CHECKSUM_MISMATCH (both digests in the message), IO
     */
    MirrorFile finish(long totalSize, byte[] sha256) throws MirrorException;

    /** Drops the partial. Disk work. */
    void discard();

    /** Ends this upload, keeping the partial for resume (no-op after finish or discard). */
    @Override
    void close();
}
