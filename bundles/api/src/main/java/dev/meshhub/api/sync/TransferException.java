package dev.meshhub.api.sync;

/** A transfer refused or failed; the message says what went wrong and what to do. */
public class TransferException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why, so callers can map it (to a gRPC status, an exit code). */
    public enum Reason {
        /** A path, source or argument is not acceptable. */
        INVALID,
        /** No such node, or no such source file. */
        NOT_FOUND,
        /** The node is not connected, or a needed service is not running; retry later. */
        UNAVAILABLE,
        /** The node or the hub refused it (policy, a file the node cannot read or write, busy path). */
        REFUSED,
        /** Quota or disk reserve. */
        EXHAUSTED,
        /** The data did not verify (size or checksum). */
        CORRUPT,
        /** It did not start or end in time. */
        TIMED_OUT,
        /** Cancelled. */
        CANCELLED,
        /** Anything else; see the hub log. */
        FAILED
    }

    private final Reason reason;

    public TransferException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public TransferException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
