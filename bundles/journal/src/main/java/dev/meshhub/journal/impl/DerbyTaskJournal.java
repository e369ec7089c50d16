package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * The {@link TaskJournal} and {@link AuditLog} on the hub's {@link JournalDatabase}; usable without
 * OSGi.
 *
 * <p>Inputs are checked on the caller's thread. Every write (create, transition, output, the output's
 * size as its log ended, failing a node's tasks, audit rows) goes to one {@link GroupCommitWriter}
 * thread, which applies all writes waiting together in one transaction and commits once; each stage
 * completes from that thread once its write is durable (Derby's commit, with its log synced), or
 * with an {@link IllegalStateException} that concerns that write alone. Reads run on the journal's
 * executor, never on the writer. No call waits on the disk.
 *
 * <p>Output appends to one task that wait together are merged in memory and written with one
 * UPDATE; the journal keeps only the last {@code outputTailBytes} bytes of a task's output. Output
 * reaching the journal after the task ended is dropped (the stage still succeeds): a terminal task
 * never changes, except that the size of its output and its log's truncation are recorded when its log
 * ends ({@link #recordOutput}), usually after the task. A task only moves forward, so a late
 * DISPATCHED after RUNNING changes nothing.
 *
 * <p>Stages complete on the writer thread: a callback there delays every later write, and must
 * never wait for another journal stage (that stage would wait for the callback's thread).
 *
 * <p>Tasks a crash left in flight were already failed when the database was opened
 * ({@link JournalDatabase}); this class never re-runs anything.
 *
 * <p>{@link #close()} refuses new calls ("journal is stopped"), lets the writer commit what is
 * queued (at most 10 s, never interrupting it), then gives its share of the database back.
 */
public final class DerbyTaskJournal implements TaskJournal, AuditLog, AutoCloseable {

    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(DerbyTaskJournal.class);

    private final JournalDatabase database;
    private final TaskJournalSettings settings;
    private final JournalExecutor reads;
    private final AuditTrail audit;
    private final GroupCommitWriter writer;
    private final FinishedCounts finished = new FinishedCounts();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Starts the journal's writer thread on a shared database. The journal takes a share of the
     * database and gives it back on {@link #close()}.
     *
     * @param database the journal database (open)
     * @param clock    the time source for the tasks' and audit rows' timestamps
     * @param settings sizes of the write queue, the batches and the output tail
     * @throws IllegalStateException if the database is closed
     */
    public DerbyTaskJournal(JournalDatabase database, Clock clock, TaskJournalSettings settings) {
        this.database = Objects.requireNonNull(database, "database");
        Objects.requireNonNull(clock, "clock");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.reads = database.executor();
        this.audit = database.audit();
        database.retain();
        boolean started = false;
        try {
            try {
                database.inTransaction(connection -> {
                    finished.load(connection);
                    return null;
                });
            } catch (SQLException e) {
                throw new IllegalStateException("cannot count the tasks of the journal database in " + database.directory()
                        + ": SQLState " + e.getSQLState() + " (" + e.getMessage() + ")", e);
            }
            int tailBytes = settings.outputTailBytes();
            this.writer = GroupCommitWriter.start(database::connect, clock, settings.writeQueueCapacity(),
                    settings.maxBatch(), taken -> BatchPlan.plan(taken, tailBytes));
            started = true;
        } finally {
            if (!started) {
                database.release();
            }
        }
        LOG.info("task journal open: write queue of {}, batches of at most {}, output tail of {} bytes",
                settings.writeQueueCapacity(), settings.maxBatch(), settings.outputTailBytes());
    }

    /** The settings it was opened with. */
    public TaskJournalSettings settings() {
        return settings;
    }

    /** Where retention reports what it deleted, so the counts follow. */
    FinishedCounts finishedCounts() {
        return finished;
    }

    /** Commits made by the writer so far (one per batch); for metrics and tests. */
    /** The writer's figures (not {@link #stats()}: that one is optional, this journal always has them). */
    public dev.meshhub.api.stats.JournalStats writerStats() {
        return writer.stats();
    }

    @Override
    public java.util.Optional<dev.meshhub.api.stats.JournalStats> stats() {
        return java.util.Optional.of(writer.stats());
    }

    public long commits() {
        return writer.commits();
    }

    // ---- TaskJournal ----

    @Override
    public CompletionStage<TaskRecord> create(NewTask task) {
        return create(task, TaskState.QUEUED);
    }

    /** One INSERT, the task already DISPATCHED: the dispatcher's create and DISPATCHED in one write. */
    @Override
    public CompletionStage<TaskRecord> createDispatched(NewTask task) {
        return create(task, TaskState.DISPATCHED);
    }

    private CompletionStage<TaskRecord> create(NewTask task, TaskState state) {
        if (closed.get()) {
            return stopped();
        }
        if (task == null) {
            return refused("task must not be null");
        }
        String problem = firstProblem(
                checkText("task id", task.taskId(), JournalSchema.MAX_TASK_ID_LENGTH),
                checkText("node id", task.nodeId(), JournalSchema.MAX_NODE_ID_LENGTH),
                checkText("node name", task.nodeName(), JournalSchema.MAX_NODE_NAME_LENGTH),
                checkText("task kind", task.kind(), JournalSchema.MAX_KIND_LENGTH));
        if (problem != null) {
            return refused(problem);
        }
        if (task.spec() == null) {
            return refused("task " + task.taskId() + " has no spec");
        }
        if (task.spec().length > JournalSchema.MAX_SPEC_BYTES) {
            return refused("task " + task.taskId() + " spec is " + task.spec().length + " bytes; the journal keeps"
                    + " at most " + JournalSchema.MAX_SPEC_BYTES + " bytes (1 MiB)");
        }
        String summary = task.summary() == null ? "" : BoundedText.truncate(task.summary(), JournalSchema.MAX_SUMMARY_LENGTH);
        // Copied now: the caller may reuse its array while the write waits.
        NewTask clean = new NewTask(task.taskId(), task.nodeId(), task.nodeName(), task.kind(), summary,
                task.spec().clone());
        return writer.submit(JournalWrite.of("task.create", (connection, now) -> TaskTable.insert(connection, clean, state, now,
                database.hubInstance())));
    }

    @Override
    public CompletionStage<Boolean> transition(String taskId, TaskState state, Integer exitCode, String diagnostic) {
        if (closed.get()) {
            return stopped();
        }
        String problem = checkText("task id", taskId, JournalSchema.MAX_TASK_ID_LENGTH);
        if (problem != null) {
            return refused(problem);
        }
        if (state == null) {
            return refused("state must not be null");
        }
        // Exit code and diagnostic belong to the end of a task; for RUNNING the text is the program the node ran.
        Integer exit = state.isTerminal() ? exitCode : null;
        String why = state.isTerminal() || state == TaskState.RUNNING ? diagnostic(diagnostic) : "";
        return writer.submit(new BatchPlan.StateChange(taskId, state, exit, why) {
            @Override
            void succeed(Boolean moved) {
                if (Boolean.TRUE.equals(moved)) {
                    finished.finished(state, 1); // committed: counted before the caller hears of it
                }
                super.succeed(moved);
            }
        });
    }

    @Override
    public int outputTailBytes() {
        return settings.outputTailBytes();
    }

    @Override
    public CompletionStage<Void> appendOutput(String taskId, byte[] data) {
        if (closed.get()) {
            return stopped();
        }
        String problem = checkText("task id", taskId, JournalSchema.MAX_TASK_ID_LENGTH);
        if (problem != null) {
            return refused(problem);
        }
        if (data == null) {
            return refused("output of task " + taskId + " must not be null");
        }
        int tailBytes = settings.outputTailBytes();
        // Only the last bytes can survive; copy just those, now, so the caller may reuse its array.
        byte[] kept = Arrays.copyOfRange(data, Math.max(0, data.length - tailBytes), data.length);
        return writer.submit(new BatchPlan.OutputAppend(taskId, kept, tailBytes));
    }

    /**
     * One UPDATE on the writer, never refused for a full queue (one per task, like its end); an unknown
     * task completes the stage and writes nothing. The truncation is cut to
     * {@link JournalSchema#MAX_OUTPUT_TRUNCATION_LENGTH} characters.
     */
    @Override
    public CompletionStage<Void> recordOutput(String taskId, long outputBytes, String truncation) {
        if (closed.get()) {
            return stopped();
        }
        String problem = checkText("task id", taskId, JournalSchema.MAX_TASK_ID_LENGTH);
        if (problem != null) {
            return refused(problem);
        }
        if (outputBytes < 0) {
            return refused("output bytes of task " + taskId + " must not be negative, got " + outputBytes);
        }
        String why = truncation == null ? "" : BoundedText.truncate(truncation, JournalSchema.MAX_OUTPUT_TRUNCATION_LENGTH);
        return writer.submit(JournalWrite.of(GroupCommitWriter.OUTPUT_END, (connection, now) -> {
            if (!TaskTable.recordOutput(connection, taskId, outputBytes, why)) {
                LOG.debug("output size of unknown task {} not recorded", taskId);
            }
            return null;
        }));
    }

    @Override
    public CompletionStage<List<String>> failNodeTasks(String nodeId, String diagnostic) {
        if (closed.get()) {
            return stopped();
        }
        String problem = checkText("node id", nodeId, JournalSchema.MAX_NODE_ID_LENGTH);
        if (problem != null) {
            return refused(problem);
        }
        String why = diagnostic(diagnostic);
        return writer.submit(new JournalWrite<List<String>>("task.failNode") {
            @Override
            List<String> apply(Connection connection, Instant now) throws SQLException {
                List<String> failed = List.copyOf(TaskTable.failNodeTasks(connection, nodeId, why, now));
                if (!failed.isEmpty()) {
                    LOG.debug("failing {} task(s) of node {}: {}", failed.size(), nodeId, why);
                }
                return failed;
            }

            @Override
            void succeed(List<String> failed) {
                finished.finished(TaskState.FAILED, failed.size());
                super.succeed(failed);
            }
        });
    }

    @Override
    public CompletionStage<Optional<TaskRecord>> get(String taskId) {
        if (closed.get()) {
            return stopped();
        }
        if (taskId == null) {
            return refused("task id must not be null");
        }
        if (taskId.length() > JournalSchema.MAX_TASK_ID_LENGTH) {
            return CompletableFuture.completedFuture(Optional.<TaskRecord>empty()).minimalCompletionStage();
        }
        return reads.submit("task.get", () -> {
            try (Connection connection = database.connect()) {
                return TaskTable.select(connection, taskId);
            }
        }, JournalExecutor.TASKS);
    }

    @Override
    public CompletionStage<List<TaskRecord>> list(TaskQuery query) {
        if (closed.get()) {
            return stopped();
        }
        if (query == null) {
            return refused("query must not be null");
        }
        return reads.submit("task.list", () -> {
            try (Connection connection = database.connect()) {
                return List.copyOf(TaskTable.list(connection, query));
            }
        }, JournalExecutor.TASKS);
    }

    /** The latest audit rows, newest first (1 to 1,000). */
    public CompletionStage<List<dev.meshhub.api.audit.AuditEntry>> recentAudit(int limit) {
        if (closed.get()) {
            return stopped();
        }
        if (limit < 1 || limit > 1000) {
            return refused("limit must be between 1 and 1000, got " + limit);
        }
        return reads.submit("audit.recent", () -> {
            try (Connection connection = database.connect()) {
                return List.copyOf(AuditTrail.recent(connection, limit));
            }
        }, JournalExecutor.TASKS);
    }

    @Override
    public CompletionStage<Map<TaskState, Long>> countByState() {
        if (closed.get()) {
            return stopped();
        }
        return reads.submit("task.countByState", () -> {
            try (Connection connection = database.connect()) {
                return Map.copyOf(finished.withInFlight(connection));
            }
        }, JournalExecutor.TASKS);
    }

    @Override
    public long writeBacklog() {
        return writer.backlog();
    }

    // ---- AuditLog ----

    @Override
    public CompletionStage<Void> record(String actor, String action, String subject, String detail) {
        if (closed.get()) {
            return stopped();
        }
        String problem = firstProblem(checkText("actor", actor, Integer.MAX_VALUE),
                checkText("action", action, Integer.MAX_VALUE), checkText("subject", subject, Integer.MAX_VALUE));
        if (problem != null) {
            return refused(problem);
        }
        return writer.submit(JournalWrite.of("audit.record", (connection, now) -> {
            audit.insert(connection, now, actor, action, subject, detail);
            return null;
        }));
    }

    // ---- stopping ----

    /**
     * Stops the journal: new calls fail with "journal is stopped", queued writes are committed (at
     * most 10 s, never interrupting the writer), then the journal gives its share of the database
     * back. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (!writer.close(CLOSE_WAIT)) {
                LOG.warn("task journal writer still busy after {}; giving the database back under it", CLOSE_WAIT);
            }
        } finally {
            LOG.info("task journal closed after {} commit(s)", writer.commits());
            database.release();
        }
    }

    // ---- small things ----

    private static String diagnostic(String diagnostic) {
        return diagnostic == null ? "" : BoundedText.truncate(diagnostic, JournalSchema.MAX_DIAGNOSTIC_LENGTH);
    }

    /** Why {@code value} is not acceptable as {@code what}, or null. */
    private static String checkText(String what, String value, int max) {
        if (value == null || value.isBlank()) {
            return what + " must not be empty";
        }
        if (value.length() > max) {
            return what + " must be at most " + max + " characters, got " + value.length();
        }
        return null;
    }

    private static String firstProblem(String... problems) {
        for (String problem : problems) {
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    private static <T> CompletionStage<T> refused(String message) {
        return JournalExecutor.failed(new IllegalStateException(message));
    }

    private static <T> CompletionStage<T> stopped() {
        return JournalExecutor.failed(new IllegalStateException(JournalExecutor.STOPPED_MESSAGE));
    }
}
