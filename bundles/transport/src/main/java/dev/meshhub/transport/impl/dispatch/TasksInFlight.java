package dev.meshhub.transport.impl.dispatch;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshhub.api.task.DispatchException;

/**
 * The tasks the dispatcher follows until they end: by id (a node's report, a cancel) and by node (a session that
 * ends fails its node's tasks), with the per-node cap on how many may be pending at once.
 */
final class TasksInFlight {

    private final Map<String, DispatchedTask> byId = new ConcurrentHashMap<>();
    private final Map<String, Set<DispatchedTask>> byNode = new ConcurrentHashMap<>();

    /**
     * Follows {@code task} unless its node already has {@code maxPerNode} pending.
     *
     * @throws DispatchException BUSY, naming the node as {@code label}, when the node is at its cap
     */
    void add(DispatchedTask task, int maxPerNode, String label) {
        Set<DispatchedTask> pending = byNode.computeIfAbsent(task.nodeId, id -> ConcurrentHashMap.newKeySet());
        if (pending.size() >= maxPerNode) {
            throw new DispatchException(DispatchException.Reason.BUSY, "node " + label + " already has " + pending.size()
                    + " tasks pending (limit " + maxPerNode + ", maxPendingTasksPerNode); retry when some have finished");
        }
        byId.put(task.taskId, task);
        pending.add(task);
    }

    /** The task with this id, or null when it is not (or no longer) followed. */
    DispatchedTask get(String taskId) {
        return byId.get(taskId);
    }

    /** The node's tasks now (a copy). */
    List<DispatchedTask> ofNode(String nodeId) {
        Set<DispatchedTask> pending = byNode.get(nodeId);
        return pending == null ? List.of() : List.copyOf(pending);
    }

    /** Every task now (a copy). */
    List<DispatchedTask> all() {
        return List.copyOf(byId.values());
    }

    void forget(DispatchedTask task) {
        byId.remove(task.taskId, task);
        Set<DispatchedTask> pending = byNode.get(task.nodeId);
        if (pending != null) {
            pending.remove(task);
        }
    }

    int size() {
        return byId.size();
    }
}
