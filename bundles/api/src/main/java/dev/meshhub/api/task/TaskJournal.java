package dev.meshhub.api.task;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The durable task journal. Offered by the journal bundle.
 *
 * <p>Writes run on the journal's own threads and are group-committed: many writes arriving
 * together share one commit. Every stage completes once the write is durable (or has failed); no
 * caller ever waits on the disk. On start, the journal fails every task a crash left non-terminal
 * with "outcome unknown: hub stopped while the task was in flight"; it never re-runs one.
 *
 * <p>Failures complete stages exceptionally with an {@link IllegalStateException} whose message
 * says what went wrong (journal stopped, overloaded, database error).
 */
@ProviderType
public interface TaskJournal {

    /** Diagnostic of tasks found in flight when the journal starts. */
    String OUTCOME_UNKNOWN = "outcome unknown: hub stopped while the task was in flight";

    /** Journals a new task in state {@link TaskState#QUEUED}. */
    CompletionStage<TaskRecord> create(NewTask task);

    /**
     * Moves a task to {@code state}. A terminal task never changes: the stage then completes with
     * {@code false}. Timestamps are the journal's: dispatched/started/finished as the state says.
     *
     * @param exitCode   for terminal states, the exit code or {@code null}
     * @param diagnostic for terminal states, why ("" for none); for {@link TaskState#RUNNING}, the program
     *                   the node reports it ran (kept as {@link TaskRecord#program()}), or ""
     * @return whether the task changed
     */
    CompletionStage<Boolean> transition(String taskId, TaskState state, Integer exitCode, String diagnostic);

    /** Appends output to the task's bounded tail (the journal keeps only the last bytes). */
    CompletionStage<Void> appendOutput(String taskId, byte[] data);

    /**
     * Fails every non-terminal task of a node in one transaction (its stream ended).
     *
     * @return the ids of the tasks it failed
     */
    CompletionStage<List<String>> failNodeTasks(String nodeId, String diagnostic);

    CompletionStage<Optional<TaskRecord>> get(String taskId);

    CompletionStage<List<TaskRecord>> list(TaskQuery query);

    /**
     * How many journaled tasks are in each state. Every state is present (zero where none are).
     * Runs on the journal's threads.
     *
     * @since 1.1
     */
    CompletionStage<Map<TaskState, Long>> countByState();

    /**
     * Writes accepted but not yet committed (the write queue's depth plus the batch being
     * committed). Answers from memory.
     *
     * @since 1.1
     */
    long writeBacklog();
}
