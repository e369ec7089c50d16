package dev.meshhub.api.task;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A dispatched task.
 *
 * <p>The stages complete on hub threads (network and journal threads): do not block in a callback
 * chained on them; use the {@code ...Async} variants with an executor of your own for slow work.
 */
@ProviderType
public interface TaskHandle {

    /** The task's id, known at once. */
    String taskId();

    /** The node it runs on. */
    String nodeId();

    /**
     * Completes when the task is journaled and sent to the node, or exceptionally (with a
     * {@link DispatchException}) when that failed.
     */
    CompletionStage<Void> dispatched();

    /**
     * The final result. Completes normally for every task that was journaled, whatever its outcome
     * (failed, cancelled, timed out, lost with its node); exceptionally only with the
     * {@link DispatchException} that kept it from being journaled.
     */
    CompletionStage<TaskResult> result();

    /**
     * Asks the node to end the task (its whole process tree). Does nothing for a task that has ended.
     *
     * @param reason why, recorded with the task
     */
    void cancel(String reason);
}
