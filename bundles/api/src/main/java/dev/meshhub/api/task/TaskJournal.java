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
     * Journals a new task directly in state {@link TaskState#DISPATCHED} (dispatched at its creation time),
     * in one write where {@link #create} and a transition to DISPATCHED take two. For a dispatcher that
     * hands the task to its node the moment this stage completes, and journals the task FAILED if it
     * cannot (a task found DISPATCHED after a crash is failed at start like any task in flight).
     *
     * <p>The default journals it QUEUED and then moves it: correct, without the saving.
     *
     * @since 1.4
     */
    default CompletionStage<TaskRecord> createDispatched(NewTask task) {
        return create(task).thenCompose(created -> transition(created.taskId(), TaskState.DISPATCHED, null, "")
                .thenApply(moved -> new TaskRecord(created.taskId(), created.nodeId(), created.nodeName(), created.kind(),
                        created.summary(), created.spec(), TaskState.DISPATCHED, created.createdAt(), created.createdAt(), null, null,
                        null, "", created.outputTail(), created.program(), created.outputBytes(), created.outputTruncation())));
    }

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
     * Records the task's output as its log ended: the bytes the hub received and, when the log left some
     * out, why and where ("" when whole). Kept with the task ({@link TaskRecord#outputBytes()},
     * {@link TaskRecord#outputTruncation()}) after its log is gone, so it is written whatever the task's
     * state (a log usually ends after its task); a later call replaces an earlier one. The journal may
     * shorten a long {@code truncation}. An unknown task is not an error: the stage completes and nothing
     * is written. Like {@link #appendOutput}, the caller need not wait for the stage.
     *
     * <p>The default records nothing (its records then say {@code null} and "").
     *
     * @param outputBytes the output bytes the hub received for the task (not negative)
     * @param truncation  why and where the log left output out, or "" ({@code null} is "")
     * @since 1.7
     */
    default CompletionStage<Void> recordOutput(String taskId, long outputBytes, String truncation) {
        return java.util.concurrent.CompletableFuture.completedStage(null);
    }

    /**
     * How many of a task's last output bytes the journal keeps ({@link TaskRecord#outputTail()}), so a writer
     * can gather output and send only what can survive. The default: 64 KiB.
     *
     * @since 1.7
     */
    default int outputTailBytes() {
        return 64 * 1024;
    }

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

    /**
     * What the journal's writer did since it started: commits, their durations and sizes (for metrics).
     * Never blocks. Empty from journals that do not keep them.
     */
    default java.util.Optional<dev.meshhub.api.stats.JournalStats> stats() {
        return java.util.Optional.empty();
    }
}
