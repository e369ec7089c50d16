package dev.meshhub.api.output;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The hub's per-task output logs. Offered by the task-logs bundle.
 *
 * <p>A log holds a task's stdout and stderr interleaved in the order they arrived, each chunk with
 * its stream, then a last record saying how the task ended (or that the log was truncated, with the
 * byte counts). Offsets count output bytes of both streams from 0, so a reader can resume at the
 * byte where it stopped.
 *
 * <p>Threads: {@link #start} and the {@link TaskLogWriter} never block (files are written on the
 * bundle's own IO threads); {@link #info} and {@link #read} read the disk and may block, so call them
 * off gRPC and Netty threads.
 */
@ProviderType
public interface TaskLogs {

    /**
     * Starts the log of a task that is starting to run. Never blocks. A log the hub already holds for
     * this task (a task run again, say after a hub restart) is replaced by the new one; a log whose
     * {@link TaskLogWriter#finish} was called may be started again at once (the new log begins once the
     * old one is closed).
     *
     * @throws IllegalStateException if a log for this task is being written already (not finished), or
     *         the task logs are stopping
     * @throws IllegalArgumentException if the task id is not usable as a log name (letters, digits,
     *         '-' and '_', 1 to 128 characters)
     */
    TaskLogWriter start(String taskId);

    /**
     * What the hub holds of a task's log now; empty when it has none (never written, or removed by
     * retention). A log being written is described from memory; any other from its file: a log whose
     * writer never finished (the hub stopped or crashed) is not open and has the ending "". May block.
     *
     * @throws IllegalArgumentException if the task id is not usable as a log name
     * @throws IOException if the log cannot be read (or the file is not a task log)
     */
    Optional<TaskLogInfo> info(String taskId) throws IOException;

    /**
     * Opens a task's log for reading from output byte {@code offset}. May block.
     *
     * @throws java.nio.file.NoSuchFileException if the hub holds no log of this task
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException if the task id is not usable as a log name, or the offset is negative
     */
    TaskLogReader read(String taskId, long offset) throws IOException;

    /**
     * Completes once the log holds more than {@code outputBytes} bytes of output (its
     * {@link TaskLogInfo#loggedBytes}, so a reader passes the offset it has read up to), or has ended
     * (finished, removed, or no writer of it is live in this hub), whichever comes first; at once if
     * either holds already. It also completes when the log gets truncated, so that a follower learns
     * at once that the output stops there; once truncated, a log grows no more and the stage completes
     * when it ends. For readers that follow a running task. Never blocks; completes on the bundle's IO
     * threads (keep what runs on it short).
     *
     * @throws IllegalArgumentException if the task id is not usable as a log name
     */
    CompletionStage<Void> grown(String taskId, long outputBytes);
}
