package dev.meshhub.admin.impl;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.ManagementTaskInfo;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;

/**
 * Conversions of the scheduler's task statuses and the monitor's snapshots to the wire contract.
 * Absent values take the sentinels admin.proto documents: 0 for times, -1 for durations and backlog,
 * {@code locks_known = false} with zero lock fields.
 */
final class ManagementMessages {

    private ManagementMessages() {
    }

    static ManagementTaskInfo toWire(ManagementTaskStatus status) {
        return ManagementTaskInfo.newBuilder()
                .setName(status.name())
                .setServiceId(status.serviceId())
                .setBundle(status.bundle())
                .setState(status.state().name())
                .setProblem(nullToEmpty(status.problem()))
                .setPeriodMs(millisOrZero(status.period()))
                .setTimeLimitMs(millisOrZero(status.timeLimit()))
                .setConcurrent(status.concurrent())
                .setRuns(status.runs())
                .setFailures(status.failures())
                .setTimeouts(status.timeouts())
                .setSkipped(status.skipped())
                .setConsecutiveFailures(status.consecutiveFailures())
                .setLastStartMs(millis(status.lastStart()))
                .setLastDurationMs(status.lastDuration() == null ? -1 : status.lastDuration().toMillis())
                .setLastOutcome(status.lastOutcome() == null ? "" : status.lastOutcome().name())
                .setLastError(nullToEmpty(status.lastError()))
                .setNextRunMs(millis(status.nextRun()))
                .build();
    }

    static MeshStatusInfo toWire(MeshSnapshot snapshot) {
        MeshStatusInfo.Builder info = MeshStatusInfo.newBuilder()
                .setTakenAtMs(snapshot.takenAt().toEpochMilli())
                .setNodesKnown(snapshot.nodes() != null)
                .setTasksKnown(snapshot.tasksByState() != null)
                .setJournalBacklog(snapshot.journalBacklog() == null ? -1 : snapshot.journalBacklog())
                .addAllUnavailable(snapshot.unavailable());
        LockStats locks = snapshot.locks();
        if (locks != null) {
            info.setLocksKnown(true)
                    .setLiveLocks(locks.live())
                    .setOldestLockAgeMs(locks.oldestAge() == null ? 0 : Math.max(0, locks.oldestAge().toMillis()))
                    .setExpiredLocks(locks.expired());
        }
        if (snapshot.nodes() != null) {
            // Same order as ListNodes, so the two listings read alike.
            snapshot.nodes().stream()
                    .sorted(Comparator.comparing(NodeSession::name).thenComparing(NodeSession::nodeId))
                    .forEach(session -> info.addNodes(NodeStatus.newBuilder()
                            .setNodeId(session.nodeId())
                            .setName(session.name())
                            .setConnected(true)
                            .setAddress(session.address())
                            .setConnectedSinceMs(session.connectedSince().toEpochMilli())
                            .setLastHeartbeatMs(session.lastHeartbeat().toEpochMilli())));
        }
        Map<TaskState, Long> counts = snapshot.tasksByState();
        if (counts != null) {
            // The proto promises every state; a monitor that left one out counted none there.
            for (TaskState state : TaskState.values()) {
                Long count = counts.get(state);
                info.putTasksByState(state.name(), count == null ? 0 : count);
            }
        }
        return info.build();
    }

    private static long millis(Instant instant) {
        return instant == null ? 0 : instant.toEpochMilli();
    }

    private static long millisOrZero(Duration duration) {
        return duration == null ? 0 : duration.toMillis();
    }

    private static String nullToEmpty(String text) {
        return text == null ? "" : text;
    }
}
