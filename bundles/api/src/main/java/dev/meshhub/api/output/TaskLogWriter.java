package dev.meshhub.api.output;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

import dev.meshhub.api.task.TaskOutput;

/**
 * Appends to one task's log. Every method returns at once; the work happens in order on the task-logs
 * bundle's IO threads. Not for use from more than one thread at a time.
 */
@ProviderType
public interface TaskLogWriter {

    /**
     * Appends one chunk of output. The stage completes once the chunk is written, or once it is
     * known it will not be (a cap was reached, the disk is full or failed: the log is then marked
     * truncated, with the reason, and the bytes are still counted in {@link TaskLogInfo#outputBytes}).
     * It never completes exceptionally, so a caller may use it purely as "taken".
     */
    CompletionStage<Void> append(TaskOutput.Stream stream, byte[] data);

    /**
     * Ends the log with a record saying how the task ended ({@code ending}, one line, e.g.
     * "SUCCEEDED, exit code 0" or the disconnect diagnostic; line breaks become spaces) and the byte
     * counts, and forces it to disk. Later appends are ignored; calling it again returns the first
     * call's result. Never completes exceptionally: a log that could not be written completes with its
     * info in memory (truncated, with the reason). Completes with the log's final info.
     */
    CompletionStage<TaskLogInfo> finish(String ending);
}
