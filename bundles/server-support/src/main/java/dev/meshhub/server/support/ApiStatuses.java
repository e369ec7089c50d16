package dev.meshhub.server.support;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.task.DispatchException;
import io.grpc.Status;

/**
 * The one mapping from the API's failures to the gRPC statuses remote callers see, for the node API
 * and the admin API alike. Every failure keeps its message, which says what to do.
 */
public final class ApiStatuses {

    private ApiStatuses() {
    }

    /** The failure inside completion wrappers. */
    public static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The status for a failure of an API service (wrapped or not); {@code null} for anything else,
     * which the caller logs and answers INTERNAL. A {@link TimeoutException} (a store that did not
     * answer in time) is DEADLINE_EXCEEDED without a description: the caller says what it waited for.
     */
    public static Status of(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof EnrollmentException e) {
            return of(e);
        }
        if (t instanceof DispatchException e) {
            return of(e);
        }
        if (t instanceof TransferException e) {
            return of(e);
        }
        if (t instanceof MirrorException e) {
            return of(e);
        }
        if (t instanceof TimeoutException) {
            return Status.DEADLINE_EXCEEDED;
        }
        return null;
    }

    public static Status of(EnrollmentException e) {
        Status status = switch (e.reason()) {
            case MALFORMED -> Status.INVALID_ARGUMENT;
            case UNKNOWN, EXPIRED, USED, REVOKED -> Status.UNAUTHENTICATED;
            case NAME_TAKEN -> Status.ALREADY_EXISTS;
            case DEADLINE -> Status.DEADLINE_EXCEEDED;
            case UNAVAILABLE -> Status.UNAVAILABLE;
        };
        return status.withDescription(e.getMessage());
    }

    public static Status of(DispatchException e) {
        Status status = switch (e.reason()) {
            case UNKNOWN_NODE -> Status.NOT_FOUND;
            case NODE_OFFLINE, NO_POLICY -> Status.FAILED_PRECONDITION;
            case POLICY_DENIED -> Status.PERMISSION_DENIED;
            case BUSY -> Status.RESOURCE_EXHAUSTED;
            case INVALID -> Status.INVALID_ARGUMENT;
            case UNAVAILABLE -> Status.UNAVAILABLE;
        };
        return status.withDescription(e.getMessage());
    }

    public static Status of(TransferException e) {
        Status status = switch (e.reason()) {
            case INVALID -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case REFUSED -> Status.FAILED_PRECONDITION;
            case EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case CORRUPT -> Status.DATA_LOSS;
            case TIMED_OUT -> Status.DEADLINE_EXCEEDED;
            case CANCELLED -> Status.CANCELLED;
            case FAILED -> Status.INTERNAL;
        };
        return status.withDescription(e.getMessage());
    }

    public static Status of(MirrorException e) {
        Status status = switch (e.reason()) {
            case BAD_PATH -> Status.INVALID_ARGUMENT;
            case SYMLINK -> Status.FAILED_PRECONDITION;
            case BUSY -> Status.ABORTED;
            case QUOTA_EXCEEDED, DISK_RESERVE -> Status.RESOURCE_EXHAUSTED;
            case BAD_OFFSET -> Status.OUT_OF_RANGE;
            case SIZE_MISMATCH, CHECKSUM_MISMATCH -> Status.DATA_LOSS;
            case NOT_FOUND -> Status.NOT_FOUND;
            case IO -> Status.INTERNAL;
        };
        return status.withDescription(e.getMessage());
    }

    /** The transfer failure a status from a node's stream amounts to (the inverse of {@link #of(TransferException)}). */
    public static TransferException.Reason transferReason(Status status) {
        return switch (status.getCode()) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> TransferException.Reason.INVALID;
            case NOT_FOUND -> TransferException.Reason.NOT_FOUND;
            case UNAVAILABLE, ABORTED -> TransferException.Reason.UNAVAILABLE;
            case FAILED_PRECONDITION, PERMISSION_DENIED -> TransferException.Reason.REFUSED;
            case RESOURCE_EXHAUSTED -> TransferException.Reason.EXHAUSTED;
            case DATA_LOSS -> TransferException.Reason.CORRUPT;
            case DEADLINE_EXCEEDED -> TransferException.Reason.TIMED_OUT;
            case CANCELLED -> TransferException.Reason.CANCELLED;
            default -> TransferException.Reason.FAILED;
        };
    }

    /** Whether an enrollment failure counts against the caller's rate limit (the caller's own mistake). */
    public static boolean countsAsFailedAttempt(Throwable failure) {
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
