package dev.meshhub.api.management;

/** How one run of a {@link ManagementTask} ended. */
public enum RunOutcome {
    /** {@link ManagementTask#run()} returned normally within its time limit. */
    SUCCEEDED,
    /** {@link ManagementTask#run()} threw. */
    FAILED,
    /** The run passed its time limit (whatever it did afterwards). */
    TIMED_OUT,
    /** The run was interrupted because its service went away or the scheduler stopped. */
    INTERRUPTED
}
