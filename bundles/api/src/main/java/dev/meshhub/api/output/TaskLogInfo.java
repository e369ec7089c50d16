package dev.meshhub.api.output;

import java.time.Instant;

/**
 * What a task's log holds.
 *
 * @param taskId      the task
 * @param outputBytes output bytes the hub received for the task (both streams), kept or not
 * @param loggedBytes output bytes the log holds (less than {@code outputBytes} when truncated); a log
 *                    holds the output from byte 0 with no gap, so its offsets are output offsets
 * @param open        whether the log is still being written (the task runs); false also for a log whose
 *                    writer never finished (the hub stopped or crashed)
 * @param truncated   whether output was left out of the log (a cap, a full or failing disk)
 * @param truncation  why it was truncated and where ("" when it was not)
 * @param ending      how the task ended as written at the end of the log ("" while open, or when the
 *                    hub stopped before the task ended)
 * @param modified    when the log was last written
 */
public record TaskLogInfo(String taskId, long outputBytes, long loggedBytes, boolean open, boolean truncated, String truncation,
        String ending, Instant modified) {
}
