package dev.meshhub.api.task;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Sends work to nodes. Offered by the transport.
 *
 * <p>A task is checked against the node's sandbox policy at once (refused early, with the rule in
 * the message), journaled durably, and only then sent down the node's stream. Nothing here blocks:
 * the handle's stages complete from hub threads.
 */
@ProviderType
public interface TaskDispatcher {

    /**
     * Dispatches a command.
     *
     * @param node     the node's id or name
     * @param command  what to run
     * @param output   receives output chunks as they arrive ({@link TaskOutputListener#NONE} to ignore)
     * @return the task's handle
     * @throws DispatchException when the task is refused before it is journaled (unknown or offline
     *         node, policy, no policy service, node busy, invalid command)
     */
    TaskHandle dispatch(String node, CommandSpec command, TaskOutputListener output);

    /**
     * Cancels a running task by its id, for callers that hold no handle (the shell, the admin API).
     *
     * @return false when the hub follows no such task (unknown, or already ended)
     */
    boolean cancel(String taskId, String reason);

    /** What the dispatcher did since it started (for metrics). Never blocks. Empty from dispatchers that do not keep it. */
    default java.util.Optional<dev.meshhub.api.stats.DispatchStats> stats() {
        return java.util.Optional.empty();
    }
}
