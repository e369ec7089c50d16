package dev.meshhub.transport.impl.dispatch;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicReference;

import dev.meshhub.api.task.TaskHandle;
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
    /** Its output on the way to its log and its caller. */
    final OutputFlow flow;
    /** Its output gathered for the journal's tail. */
    final OutputTail tail = new OutputTail();
    /** Its log on the hub, once it was sent (null without a task-logs service). */
    volatile OutputConsumers.Log log;
    final CompletableFuture<Void> dispatched = new CompletableFuture<>();
    final CompletableFuture<TaskResult> result = new CompletableFuture<>();
    /** How the task ended; set once. */
    private final AtomicReference<Outcome> outcome = new AtomicReference<>();
    private final Canceller canceller;
    /** When the dispatcher accepted it (for the dispatch-to-start latency). */
    final long acceptedNanos = System.nanoTime();
    /** Whether its start was timed already (a node reports it once; a repeat is not counted twice). */
    final java.util.concurrent.atomic.AtomicBoolean startTimed = new java.util.concurrent.atomic.AtomicBoolean();
    /** The journal holds the task's creation (set before it is sent). */
    volatile boolean created;
    volatile ScheduledFuture<?> timer;

    DispatchedTask(String taskId, String nodeId, String nodeName, NodeSessionHandle session, OutputFlow flow,
                   Canceller canceller) {
        this.taskId = taskId;
        this.nodeId = nodeId;
        this.nodeName = nodeName;
        this.session = session;
        this.flow = flow;
        this.canceller = canceller;
    }

    /** How a task ended. */
    record Outcome(TaskState state, Integer exitCode, String diagnostic) {
    }

    /** Marks the task ended with this outcome; true for the first caller only. */
    boolean finish(TaskState state, Integer exitCode, String diagnostic) {
        return outcome.compareAndSet(null, new Outcome(state, exitCode, diagnostic));
    }

    boolean isFinished() {
        return outcome.get() != null;
    }

    /** How it ended, or null while it runs. */
    Outcome outcome() {
        return outcome.get();
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
