package dev.meshhub.transport.impl;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/** A task journal in memory that moves tasks forward only, as the real one does; creates can be held or failed. */
public final class FakeTaskJournal implements TaskJournal {
    public final Map<String, TaskState> states = new ConcurrentHashMap<>();
    public final Map<String, StringBuilder> output = new ConcurrentHashMap<>();
    public final List<Runnable> held = new ArrayList<>();
    public volatile boolean holdCreates;
    public volatile boolean failCreates;

    public synchronized void releaseCreates() {
        holdCreates = false;
        held.forEach(Runnable::run);
        held.clear();
    }

    @Override
    public synchronized CompletionStage<TaskRecord> create(NewTask task) {
        if (failCreates) {
            return CompletableFuture.failedFuture(new IllegalStateException("journal is stopped"));
        }
        states.put(task.taskId(), TaskState.QUEUED);
        CompletableFuture<TaskRecord> done = new CompletableFuture<>();
        TaskRecord record = new TaskRecord(task.taskId(), task.nodeId(), task.nodeName(), task.kind(), task.summary(), task.spec(),
                TaskState.QUEUED, Instant.now(), null, null, null, null, "", new byte[0]);
        if (holdCreates) {
            held.add(() -> done.complete(record));
        } else {
            done.complete(record);
        }
        return done;
    }

    /** As the journal: one write, DISPATCHED once durable (held like {@link #create} while {@link #holdCreates}). */
    @Override
    public synchronized CompletionStage<TaskRecord> createDispatched(NewTask task) {
        if (failCreates) {
            return CompletableFuture.failedFuture(new IllegalStateException("journal is stopped"));
        }
        CompletableFuture<TaskRecord> done = new CompletableFuture<>();
        TaskRecord record = new TaskRecord(task.taskId(), task.nodeId(), task.nodeName(), task.kind(), task.summary(), task.spec(),
                TaskState.DISPATCHED, Instant.now(), Instant.now(), null, null, null, "", new byte[0]);
        Runnable durable = () -> {
            states.put(task.taskId(), TaskState.DISPATCHED);
            done.complete(record);
        };
        if (holdCreates) {
            held.add(durable);
        } else {
            durable.run();
        }
        return done;
    }

    @Override
    public CompletionStage<Boolean> transition(String taskId, TaskState state, Integer exitCode, String diagnostic) {
        TaskState before = states.get(taskId);
        if (before == null || before.isTerminal()) {
            return CompletableFuture.completedFuture(false);
        }
        states.put(taskId, state);
        return CompletableFuture.completedFuture(true);
    }

    @Override
    public CompletionStage<Void> appendOutput(String taskId, byte[] data) {
        output.computeIfAbsent(taskId, id -> new StringBuilder()).append(new String(data));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<List<String>> failNodeTasks(String nodeId, String diagnostic) {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<Optional<TaskRecord>> get(String taskId) {
        return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public CompletionStage<List<TaskRecord>> list(TaskQuery query) {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<Map<TaskState, Long>> countByState() {
        return CompletableFuture.completedFuture(Map.of());
    }

    @Override
    public long writeBacklog() {
        return 0;
    }
}
