package dev.meshhub.api.task;

/**
 * Which tasks to list, newest first.
 *
 * @param nodeId only this node's tasks, or {@code null} for all
 * @param state  only tasks in this state, or {@code null} for any
 * @param limit  at most this many (1..1000)
 */
public record TaskQuery(String nodeId, TaskState state, int limit) {
    public TaskQuery {
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("limit must be between 1 and 1000, got " + limit);
        }
    }
}
