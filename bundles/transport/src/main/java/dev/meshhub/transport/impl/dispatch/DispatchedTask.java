package dev.meshhub.transport.impl.dispatch;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.transport.impl.session.NodeSessionHandle;

/** One task the hub follows until it ends: the handle its caller holds, and what the dispatcher tracks. */
final class DispatchedTask implements TaskHandle {

    /** How a task's cancel reaches the dispatcher. */
    interface Canceller {
        void cancel(DispatchedTask task, String reason);
    }

    final String taskId;
    final String nodeId;
    final String nodeName;
    final NodeSessionHandle session;
    final TaskOutputListener listener;
    final CompletableFuture<Void> dispatched = new CompletableFuture<>();
    final CompletableFuture<TaskResult> result = new CompletableFuture<>();
    private final AtomicBoolean finished = new AtomicBoolean();
    private final Canceller canceller;
    volatile TaskState finalState;
    volatile String finalDiagnostic;
    volatile ScheduledFuture<?> timer;

    DispatchedTask(String taskId, String nodeId, String nodeName, NodeSessionHandle session, TaskOutputListener listener,
                   Canceller canceller) {
        this.taskId = taskId;
        this.nodeId = nodeId;
        this.nodeName = nodeName;
        this.session = session;
        this.listener = listener;
        this.canceller = canceller;
    }

    /** Marks the task ended with this outcome; true for the first caller only. */
    boolean finish(TaskState state, String diagnostic) {
        if (!finished.compareAndSet(false, true)) {
            return false;
        }
        finalState = state;
        finalDiagnostic = diagnostic;
        return true;
    }

    boolean isFinished() {
        return finished.get();
    }

    String label() {
        return nodeName + " (" + nodeId + ")";
    }

    @Override
    public String taskId() {
        return taskId;
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public CompletionStage<Void> dispatched() {
        return dispatched.copy();
    }

    @Override
    public CompletionStage<TaskResult> result() {
        return result.copy();
    }

    @Override
    public void cancel(String reason) {
        if (!isFinished()) {
            canceller.cancel(this, reason == null || reason.isBlank() ? "cancelled" : reason);
        }
    }
}
