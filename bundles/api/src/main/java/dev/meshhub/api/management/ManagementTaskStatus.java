package dev.meshhub.api.management;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What the scheduler knows about one {@link ManagementTask} service. Times are absent (null) until
 * they have happened or when they do not apply.
 *
 * @param name                the task's name ({@link ManagementTask#NAME} or its fallback)
 * @param serviceId           the task service's {@code service.id}
 * @param bundle              symbolic name of the bundle that registered it
 * @param state               where it stands
 * @param problem             why an {@link TaskScheduleState#IGNORED} task is not run; otherwise null
 * @param period              time between run starts; null when ignored
 * @param timeLimit           how long one run may take; null when ignored
 * @param concurrent          whether runs may overlap
 * @param runs                runs started since the task was registered
 * @param failures            runs that threw
 * @param timeouts            runs that passed their time limit
 * @param skipped             periods skipped because a run was still going
 * @param consecutiveFailures failed or timed-out runs since the last success
 * @param lastStart           when the last run started
 * @param lastDuration        how long the last finished run took
 * @param lastOutcome         how the last finished run ended
 * @param lastError           the last failure, as {@code ExceptionClass: message}; null if none yet
 * @param nextRun             when the next run is due; null when ignored or hung
 */
public record ManagementTaskStatus(String name, long serviceId, String bundle, TaskScheduleState state,
                                   String problem, Duration period, Duration timeLimit, boolean concurrent,
                                   long runs, long failures, long timeouts, long skipped,
                                   long consecutiveFailures, Instant lastStart, Duration lastDuration,
                                   RunOutcome lastOutcome, String lastError, Instant nextRun) {
    public ManagementTaskStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(state, "state");
    }
}
