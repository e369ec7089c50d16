package dev.meshhub.api.management;

/** Where a {@link ManagementTask} service stands with the scheduler. */
public enum TaskScheduleState {
    /** Scheduled and waiting for its next run. */
    WAITING,
    /** A run is going, within its time limit. */
    RUNNING,
    /** A run passed its time limit and has not returned yet; the task gets no runs until it does. */
    HUNG,
    /** Not run: its service properties are malformed (see the status's problem). */
    IGNORED
}
