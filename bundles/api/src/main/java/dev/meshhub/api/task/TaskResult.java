package dev.meshhub.api.task;

/**
 * How a task ended.
 *
 * @param taskId     the task
 * @param nodeId     the node it ran on
 * @param state      a terminal state
 * @param exitCode   the process's exit code, or {@code null} when it did not exit on its own
 * @param diagnostic why it ended that way, in words ("" for a plain success)
 */
public record TaskResult(String taskId, String nodeId, TaskState state, Integer exitCode, String diagnostic) {
}
