package dev.meshhub.api.mirror;

/**
 * A mirror operation refused or failed. The message says what went wrong and what to do; the
 * {@link Reason} lets the transport choose a gRPC status.
 */
public class MirrorException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** The path is not acceptable (INVALID_ARGUMENT). */
        BAD_PATH,
        /** A symlink in the mirror would lead out of it (FAILED_PRECONDITION). */
        SYMLINK,
        /** The path is being uploaded already (ABORTED). */
        BUSY,
        /** The node's quota would be exceeded (RESOURCE_EXHAUSTED). */
        QUOTA_EXCEEDED,
        /** Free disk would drop below the reserve (RESOURCE_EXHAUSTED). */
        DISK_RESERVE,
        /** A chunk does not start where the data held ends (OUT_OF_RANGE); see {@link #expectedOffset()}. */
        BAD_OFFSET,
        /** The final size is not what was received (DATA_LOSS). */
        SIZE_MISMATCH,
        /** The final SHA-256 is not what was received (DATA_LOSS). */
        CHECKSUM_MISMATCH,
        /** No such complete file in the mirror (NOT_FOUND). @since 1.1 */
        NOT_FOUND,
        /** The disk failed (INTERNAL). */
        IO
    }

    private final Reason reason;
    private final long expectedOffset;

    public MirrorException(Reason reason, String message) {
        this(reason, message, -1, null);
    }

    public MirrorException(Reason reason, String message, Throwable cause) {
        this(reason, message, -1, cause);
    }

    public MirrorException(Reason reason, String message, long expectedOffset, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.expectedOffset = expectedOffset;
    }

    public Reason reason() {
        return reason;
    }

    /** For {@link Reason#BAD_OFFSET}: where the next chunk must start; otherwise -1. */
    public long expectedOffset() {
        return expectedOffset;
    }
}
