package dev.meshhub.api.enrollment;

/**
 * Why an enrollment-store operation failed. The message is safe to show to the caller: it never
 * contains a secret.
 */
public class EnrollmentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kinds of failure, so a transport can map each to its own status. */
    public enum Reason {
        /** The input has the wrong shape (token, name, ttl); no storage work was done. */
        MALFORMED,
        /** No such invite or node, or a secret that does not match (the two are not told apart). */
        UNKNOWN,
        /** The invite token's time to live has passed. */
        EXPIRED,
        /** The invite token was already spent. */
        USED,
        /** The node was revoked. */
        REVOKED,
        /** The requested node name belongs to another node. */
        NAME_TAKEN,
        /** The deadline passed before the work could commit; nothing was changed. */
        DEADLINE,
        /** The store cannot serve now (overloaded, stopping, database failure). */
        UNAVAILABLE
    }

    private final Reason reason;

    public EnrollmentException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public EnrollmentException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** The kind of failure. */
    public Reason reason() {
        return reason;
    }
}
