package dev.meshhub.transport.impl;

import dev.meshhub.api.task.DispatchException;
import io.grpc.Status;

/** Maps dispatch refusals to the gRPC statuses admin callers see. */
final class DispatchStatuses {

    private DispatchStatuses() {
    }

    static Status of(DispatchException e) {
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
}
