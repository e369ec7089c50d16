package dev.meshhub.monitor.snapshot;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * A task journal answering only what a monitor asks: task counts (from a supplier the test sets) and
 * the write backlog. Counts {@link #countCalls} down on every count request, so a test knows a run is
 * waiting for the journal.
 */
public final class FakeTaskJournal implements TaskJournal {

    public final CountDownLatch countCalls = new CountDownLatch(1);
    private volatile Supplier<CompletionStage<Map<TaskState, Long>>> counts;
    private volatile long backlog;

    private FakeTaskJournal(Supplier<CompletionStage<Map<TaskState, Long>>> counts, long backlog) {
        this.counts = counts;
        this.backlog = backlog;
    }

    /** Answers at once with {@code counts} (states not given: 0). */
    public static FakeTaskJournal answering(Map<TaskState, Long> counts, long backlog) {
        Map<TaskState, Long> all = new EnumMap<>(TaskState.class);
        for (TaskState state : TaskState.values()) {
            all.put(state, counts.getOrDefault(state, 0L));
        }
        return new FakeTaskJournal(() -> CompletableFuture.completedFuture(all), backlog);
    }

    /** Never completes its count stage. */
    public static FakeTaskJournal silent(long backlog) {
        return new FakeTaskJournal(CompletableFuture::new, backlog);
    }

    /** Completes its count stage exceptionally with an IllegalStateException of {@code message}. */
    public static FakeTaskJournal failing(String message, long backlog) {
        return new FakeTaskJournal(() -> CompletableFuture.failedFuture(new IllegalStateException(message)), backlog);
    }

    /** Throws from countByState itself, as a journal in the middle of stopping might. */
    public static FakeTaskJournal throwing(RuntimeException failure, long backlog) {
        return new FakeTaskJournal(() -> {
            throw failure;
        }, backlog);
    }

    public void setBacklog(long next) {
        backlog = next;
    }

    @Override
    public CompletionStage<Map<TaskState, Long>> countByState() {
        countCalls.countDown();
        return counts.get();
    }

    @Override
    public long writeBacklog() {
        return backlog;
    }

    @Override
    public CompletionStage<TaskRecord> create(NewTask task) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public CompletionStage<Boolean> transition(String taskId, TaskState state, Integer exitCode, String diagnostic) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public CompletionStage<Void> appendOutput(String taskId, byte[] data) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public CompletionStage<List<String>> failNodeTasks(String nodeId, String diagnostic) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public CompletionStage<Optional<TaskRecord>> get(String taskId) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public CompletionStage<List<TaskRecord>> list(TaskQuery query) {
        throw new UnsupportedOperationException("not used by the monitor");
    }
}
