package dev.meshhub.api.pki;

import java.util.Objects;

/** The PKI refused a request; the message says what was wrong and what to do. */
public class PkiException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** The request itself is unacceptable (a malformed or weak CSR, another node's name). */
        BAD_REQUEST,
        /** The PKI cannot serve now (its files are unusable); the message names the file. */
        UNAVAILABLE
    }

    private final Reason reason;

    public PkiException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public PkiException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
