package dev.meshhub.transport.impl;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

import dev.meshhub.api.enrollment.EnrollmentException;
import io.grpc.Status;

/** Maps enrollment-store failures to the gRPC statuses callers see. */
final class EnrollmentStatuses {

    private EnrollmentStatuses() {
    }

    static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The status for a failed store operation; {@code null} for a failure that is not the store's
     * own (the caller logs it and answers INTERNAL).
     */
    static Status of(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof EnrollmentException e) {
            Status status = switch (e.reason()) {
                case MALFORMED -> Status.INVALID_ARGUMENT;
                case UNKNOWN, EXPIRED, USED, REVOKED -> Status.UNAUTHENTICATED;
                case NAME_TAKEN -> Status.ALREADY_EXISTS;
                case DEADLINE -> Status.DEADLINE_EXCEEDED;
                case UNAVAILABLE -> Status.UNAVAILABLE;
            };
            return status.withDescription(e.getMessage());
        }
        if (t instanceof TimeoutException) {
            return Status.DEADLINE_EXCEEDED;
        }
        return null;
    }

    /** Whether the failure counts against the caller's enrollment rate limit. */
    static boolean countsAsFailedAttempt(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof EnrollmentException e) {
            return switch (e.reason()) {
                case MALFORMED, UNKNOWN, EXPIRED, USED, REVOKED -> true;
                default -> false;
            };
        }
        return false;
    }
}
