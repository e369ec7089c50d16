package dev.meshhub.monitor.snapshot;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskState;

/**
 * Takes one {@link MeshSnapshot} from whatever services are there at the moment. A missing or
 * failing service makes its part null with a line in {@link MeshSnapshot#unavailable()}; only an
 * interrupt stops a collection.
 */
public final class SnapshotCollector {

    private final Supplier<NodeDirectory> directory;
    private final Supplier<TaskJournal> journal;
    private final Supplier<LockRegistry> locks;
    private final Clock clock;
    private final Duration journalTimeout;

    /**
     * @param directory      the node directory now, or null while the transport is not running
     * @param journal        the task journal now, or null while the journal is not running
     * @param locks          the IO lock registry now, or null while none is running
     * @param clock          the time a snapshot is taken at
     * @param journalTimeout how long one collection waits for the journal's task counts (positive)
     */
    public SnapshotCollector(Supplier<NodeDirectory> directory, Supplier<TaskJournal> journal,
                             Supplier<LockRegistry> locks, Clock clock, Duration journalTimeout) {
        this.directory = Objects.requireNonNull(directory, "directory");
        this.journal = Objects.requireNonNull(journal, "journal");
        this.locks = Objects.requireNonNull(locks, "locks");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (journalTimeout.isNegative() || journalTimeout.isZero()) {
            throw new IllegalArgumentException("journal timeout must be positive, got " + journalTimeout);
        }
        this.journalTimeout = journalTimeout;
    }

    /**
     * Takes a snapshot. Blocks at most about the journal timeout, waiting for the journal's counts.
     *
     * @throws InterruptedException if the thread is interrupted while waiting for the journal
     */
    public MeshSnapshot collect() throws InterruptedException {
        List<String> unavailable = new ArrayList<>();
        // Taken just before the nodes are read, so heartbeat ages are measured from the right moment.
        Instant takenAt = clock.instant();
        List<NodeSession> nodes = null;
        NodeDirectory nodeDirectory = directory.get();
        if (nodeDirectory == null) {
            unavailable.add("transport: not running");
        } else {
            try {
                nodes = nodeDirectory.connected();
            } catch (RuntimeException e) {
                // The transport may be stopping while we ask.
                unavailable.add("transport: " + describe(e));
            }
        }

        Map<TaskState, Long> tasksByState = null;
        Long backlog = null;
        TaskJournal taskJournal = journal.get();
        if (taskJournal == null) {
            unavailable.add("journal: not running");
        } else {
            try {
                tasksByState = countByState(taskJournal);
            } catch (TimeoutException e) {
                unavailable.add("journal: did not answer within " + journalTimeout.toMillis() + " ms");
            } catch (ExecutionException e) {
                unavailable.add("journal: " + describe(e.getCause()));
            } catch (RuntimeException e) {
                unavailable.add("journal: " + describe(e));
            }
            try {
                backlog = taskJournal.writeBacklog();
            } catch (RuntimeException e) {
                unavailable.add("journal backlog: " + describe(e));
            }
        }

        LockStats lockStats = null;
        LockRegistry lockRegistry = locks.get();
        if (lockRegistry == null) {
            unavailable.add("locks: no lock registry running");
        } else {
            try {
                // From memory, so no timeout: it cannot wait on anything.
                lockStats = lockRegistry.stats();
            } catch (RuntimeException e) {
                // The registry may be stopping while we ask.
                unavailable.add("locks: " + describe(e));
            }
        }
        return new MeshSnapshot(takenAt, nodes, tasksByState, backlog, lockStats, unavailable);
    }

    private Map<TaskState, Long> countByState(TaskJournal taskJournal)
            throws InterruptedException, ExecutionException, TimeoutException {
        CompletionStage<Map<TaskState, Long>> stage = taskJournal.countByState();
        // Our own future: a stage's toCompletableFuture() may be unsupported, and we never want to
        // complete or cancel the journal's.
        CompletableFuture<Map<TaskState, Long>> counts = new CompletableFuture<>();
        stage.whenComplete((value, failure) -> {
            if (failure != null) {
                counts.completeExceptionally(failure);
            } else {
                counts.complete(value);
            }
        });
        Map<TaskState, Long> answer = counts.get(journalTimeout.toNanos(), TimeUnit.NANOSECONDS);
        if (answer == null) {
            throw new ExecutionException(new IllegalStateException("no task counts"));
        }
        // Every state present, as the API promises, even if a journal forgets one.
        Map<TaskState, Long> complete = new EnumMap<>(TaskState.class);
        for (TaskState state : TaskState.values()) {
            Long count = answer.get(state);
            complete.put(state, count == null ? 0L : count);
        }
        return complete;
    }

    private static String describe(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }
}
