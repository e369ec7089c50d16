package dev.meshhub.monitor.jsonl;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/** A task journal answering only what a monitor asks, at once: fixed counts and backlog. */
final class StubTaskJournal implements TaskJournal {

    private final Map<TaskState, Long> counts = new EnumMap<>(TaskState.class);
    private final long backlog;

    StubTaskJournal(long running, long backlog) {
        for (TaskState state : TaskState.values()) {
            counts.put(state, 0L);
        }
        counts.put(TaskState.RUNNING, running);
        this.backlog = backlog;
    }

    @Override
    public CompletionStage<Map<TaskState, Long>> countByState() {
        return CompletableFuture.completedFuture(counts);
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
