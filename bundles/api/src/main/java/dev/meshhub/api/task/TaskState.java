package dev.meshhub.api.task;

/**
 * The life of a task: {@code QUEUED -> DISPATCHED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED | TIMED_OUT}.
 * A task may end from any non-terminal state; a terminal state never changes.
 */
public enum TaskState {
    /** Journaled, not yet sent to the node. */
    QUEUED,
    /** Sent to the node. */
    DISPATCHED,
    /** The node started it. */
    RUNNING,
    /** Exit code 0. */
    SUCCEEDED,
    /** Non-zero exit, could not start, refused by the node, or lost with its node or the hub. */
    FAILED,
    /** Cancelled on request. */
    CANCELLED,
    /** Ended by its timeout. */
    TIMED_OUT;

    /** Whether the state is final. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED || this == TIMED_OUT;
    }
}
