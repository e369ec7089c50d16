package dev.meshhub.api.task;

import java.time.Instant;

/**
 * A task as the journal holds it.
 *
 * @param taskId       hub-assigned id
 * @param nodeId       the node it was sent to
 * @param nodeName     the node's name when the task was created
 * @param kind         what kind of work ("command")
 * @param summary      one human-readable line of what runs
 * @param spec         the task's full specification, opaque to the journal (the transport stores the wire message)
 * @param state        the current state
 * @param createdAt    when it was journaled
 * @param dispatchedAt when it was sent, or {@code null}
 * @param startedAt    when the node started it, or {@code null}
 * @param finishedAt   when it ended, or {@code null}
 * @param exitCode     the exit code, or {@code null}
 * @param diagnostic   why it ended that way ("" when nothing to say)
 * @param outputTail   the last bytes of output (bounded by the journal), both streams as they arrived
 * @param program      the absolute path of the program the node ran, as it reported when it started
 *                     the task ("" when it did not say)
 * @param outputBytes  the output bytes the hub received for the task, as its log ended, or {@code null} when
 *                     not recorded (a task without a log, a task journaled before 1.7, a log still open)
 * @param outputTruncation when the task's log left output out, why and where (e.g. "log truncated: the
 *                     per-task cap of ... bytes (maxTaskLogBytes) was reached at output byte ..."); "" when
 *                     the log was whole or nothing was recorded
 */
public record TaskRecord(String taskId, String nodeId, String nodeName, String kind, String summary, byte[] spec,
        TaskState state, Instant createdAt, Instant dispatchedAt, Instant startedAt, Instant finishedAt, Integer exitCode,
        String diagnostic, byte[] outputTail, String program, Long outputBytes, String outputTruncation) {

    public TaskRecord {
        program = program == null ? "" : program;
        outputTruncation = outputTruncation == null ? "" : outputTruncation;
    }

    /** A record without the output's size and truncation (the constructor of version 1.6). */
    public TaskRecord(String taskId, String nodeId, String nodeName, String kind, String summary, byte[] spec, TaskState state,
            Instant createdAt, Instant dispatchedAt, Instant startedAt, Instant finishedAt, Integer exitCode, String diagnostic,
            byte[] outputTail, String program) {
        this(taskId, nodeId, nodeName, kind, summary, spec, state, createdAt, dispatchedAt, startedAt, finishedAt, exitCode,
                diagnostic, outputTail, program, null, "");
    }

    /** A record without the program (the constructor of version 1.2). */
    public TaskRecord(String taskId, String nodeId, String nodeName, String kind, String summary, byte[] spec, TaskState state,
            Instant createdAt, Instant dispatchedAt, Instant startedAt, Instant finishedAt, Integer exitCode, String diagnostic,
            byte[] outputTail) {
        this(taskId, nodeId, nodeName, kind, summary, spec, state, createdAt, dispatchedAt, startedAt, finishedAt, exitCode,
                diagnostic, outputTail, "");
    }
}
