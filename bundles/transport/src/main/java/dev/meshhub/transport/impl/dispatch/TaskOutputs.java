package dev.meshhub.transport.impl.dispatch;

import java.util.List;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.OutputCredit;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;
import io.grpc.Status;

/**
 * Where the dispatcher's tasks' output goes: each task's {@link OutputFlow} to its log and its
 * caller, the journal's tail, credit back to the node, and the sweep that detaches stalled callers.
 * Never blocks: the log writes on its own threads, credit is queued on the node's stream.
 */
final class TaskOutputs {

    private static final Logger LOG = LoggerFactory.getLogger(TaskOutputs.class);

    private final NodeSessions sessions;
    private final Supplier<TaskJournal> journal;
    private volatile TaskLogs logs;

    TaskOutputs(NodeSessions sessions, Supplier<TaskJournal> journal) {
        this.sessions = sessions;
        this.journal = journal;
    }

    void bind(TaskLogs bound) {
        logs = bound;
    }

    void unbind(TaskLogs gone) {
        if (logs == gone) {
            logs = null;
        }
    }

    /** The flow of a new task: credit of {@code window} bytes (0: the node has no flow control) and the caller's listener. */
    OutputFlow open(String taskId, NodeSessionHandle session, long window, TaskOutputListener listener) {
        OutputFlow flow = new OutputFlow(taskId, window, bytes -> session.send(HubMessage.newBuilder()
                .setOutputCredit(OutputCredit.newBuilder().setTaskId(taskId).setBytes(bytes)).build()));
        if (listener != null && listener != TaskOutputListener.NONE) {
            flow.attach(new OutputConsumers.Listener(taskId, listener));
        }
        return flow;
    }

    /** The task is about to go to its node: its log starts (when a task-logs service runs). */
    void startLog(DispatchedTask task) {
        TaskLogs current = logs;
        if (current == null) {
            return;
        }
        try {
            OutputConsumers.Log log = new OutputConsumers.Log(current.start(task.taskId));
            task.log = log;
            task.flow.attach(log);
        } catch (RuntimeException e) {
            LOG.warn("task {} has no output log: {}", task.taskId, e.getMessage());
        }
    }

    /** A chunk of a task's output from its node (gRPC thread). */
    void arrived(DispatchedTask task, dev.meshhub.proto.v1.TaskOutput chunk) {
        byte[] data = chunk.getData().toByteArray();
        TaskOutput output = new TaskOutput(task.taskId,
                chunk.getStream() == dev.meshhub.proto.v1.TaskOutput.Stream.STDERR ? TaskOutput.Stream.STDERR : TaskOutput.Stream.STDOUT,
                data, chunk.getSequence());
        if (!task.flow.arrived(output)) {
            String detail = "node sent " + task.flow.received() + " bytes of output for task " + task.taskId
                    + ", more than the " + "credit the hub granted; a node must wait for OutputCredit";
            LOG.warn("closing the stream of node {}: {}", task.label(), detail);
            sessions.close(task.session, SessionClosing.Reason.REASON_UNSPECIFIED, Status.INVALID_ARGUMENT.withDescription(detail));
            return;
        }
        TaskJournal taskJournal = journal.get();
        task.tail.add(data, taskJournal == null ? 64 * 1024 : taskJournal.outputTailBytes());
    }

    /** Appends gathered output to the task's tail in the journal. */
    private void journalTail(DispatchedTask task, byte[] batch) {
        TaskJournal taskJournal = journal.get();
        if (batch != null && taskJournal != null) {
            taskJournal.appendOutput(task.taskId, batch).whenComplete((ok, failure) -> {
                if (failure != null) {
                    LOG.debug("output tail of task {} not journaled: {}", task.taskId, failure.toString());
                }
            });
        }
    }

    /**
     * The task ended: its flow closes, its log ends with how it ended and the byte counts, and the journal
     * keeps those counts (and any truncation) once the log has ended.
     */
    void ended(DispatchedTask task, TaskState state, Integer exitCode, String diagnostic) {
        task.flow.close();
        task.tail.drainTo(batch -> journalTail(task, batch));
        OutputConsumers.Log log = task.log;
        if (log == null) {
            if (task.created && task.flow.received() > 0) {
                recordOutput(task.taskId, task.flow.received(), "the hub kept no log of it (no task-logs service ran)");
            }
            return;
        }
        StringBuilder ending = new StringBuilder(state.name());
        if (exitCode != null) {
            ending.append(" (exit code ").append(exitCode).append(')');
        }
        if (diagnostic != null && !diagnostic.isBlank()) {
            ending.append(": ").append(diagnostic.strip());
        }
        long skipped = task.flow.skipped(log);
        if (skipped > 0) {
            ending.append("; ").append(skipped).append(" bytes of output never reached this log (the node sends output"
                    + " without flow control, faster than the log was written)");
        }
        if (log.detachedBecause() != null) {
            ending.append("; ").append(log.detachedBecause());
        }
        TaskLogWriter writer = log.writer();
        writer.finish(ending.toString()).whenComplete((info, failure) -> {
            if (failure != null) {
                LOG.warn("the output log of task {} could not be ended: {}", task.taskId, failure.toString());
                return;
            }
            recordOutput(task.taskId, info.outputBytes(), info.truncated() ? info.truncation() : "");
        });
    }

    private void recordOutput(String taskId, long outputBytes, String truncation) {
        TaskJournal taskJournal = journal.get();
        if (taskJournal != null) {
            taskJournal.recordOutput(taskId, outputBytes, truncation).whenComplete((ok, failure) -> {
                if (failure != null) {
                    LOG.debug("output counts of task {} not journaled: {}", taskId, failure.toString());
                }
            });
        }
    }

    /**
     * Every second, on the dispatcher's timer: detaches consumers that took nothing for {@code stallNanos}, and
     * writes the output gathered for the journal's tail (so the console's live view lags by a second at most).
     */
    void sweep(List<DispatchedTask> tasks, long stallNanos) {
        long now = System.nanoTime();
        for (DispatchedTask task : tasks) {
            try {
                task.flow.detachStalled(now, stallNanos);
                task.tail.drainTo(batch -> journalTail(task, batch));
            } catch (RuntimeException e) {
                // A periodic task that throws is never run again: log and go on with the next task.
                LOG.warn("output sweep of task {} failed", task.taskId, e);
            }
        }
    }
}
