package dev.meshhub.api.monitor;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;

/**
 * The state of the mesh at one moment, as a monitor saw it. A part the monitor could not read (its
 * service is not running, or did not answer in time) is null, and {@link #unavailable()} says why.
 *
 * @param takenAt        when the snapshot was taken
 * @param nodes          the connected nodes with their last heartbeat; null if the transport was not
 *                       running
 * @param tasksByState   journaled tasks per state, every state present; null if the journal was not
 *                       readable
 * @param journalBacklog journal writes accepted but not yet committed; null if the journal was not
 *                       running
 * @param locks          the IO lock registry's counters (live locks, oldest age); null if no lock
 *                       registry was running
 * @param unavailable    one line per part that is missing, naming it and why
 */
public record MeshSnapshot(Instant takenAt, List<NodeSession> nodes, Map<TaskState, Long> tasksByState,
                           Long journalBacklog, LockStats locks, List<String> unavailable) {
    public MeshSnapshot {
        Objects.requireNonNull(takenAt, "takenAt");
        nodes = nodes == null ? null : List.copyOf(nodes);
        tasksByState = tasksByState == null ? null : Map.copyOf(tasksByState);
        unavailable = List.copyOf(unavailable);
    }
}
