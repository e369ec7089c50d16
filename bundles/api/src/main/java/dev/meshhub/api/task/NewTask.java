package dev.meshhub.api.task;

/**
 * What the dispatcher journals before a task is sent.
 *
 * @param taskId   hub-assigned id
 * @param nodeId   the target node
 * @param nodeName the node's name
 * @param kind     "command", or "push" (a file written into the node's workspace)
 * @param summary  one human-readable line
 * @param spec     the full specification (opaque bytes)
 */
public record NewTask(String taskId, String nodeId, String nodeName, String kind, String summary, byte[] spec) {
}
