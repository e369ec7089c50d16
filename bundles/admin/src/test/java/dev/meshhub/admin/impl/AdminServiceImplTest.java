package dev.meshhub.admin.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.Test;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.RunOutcome;
import dev.meshhub.api.management.TaskScheduleState;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ListManagementTasksResponse;
import dev.meshhub.proto.v1.ManagementTaskInfo;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.testing.RecordingStreamObserver;
import io.grpc.Status;

/** The admin API's management-task and mesh-status calls, answered from the services' memory. */
public class AdminServiceImplTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private final FakeHubServices services = new FakeHubServices();
    private final AdminServiceImpl admin = new AdminServiceImpl(services, new LongCalls(), () -> 1 << 20, Runnable::run);

    private RecordingStreamObserver<ListManagementTasksResponse> listManagementTasks() {
        RecordingStreamObserver<ListManagementTasksResponse> observer = new RecordingStreamObserver<>();
        admin.listManagementTasks(ListManagementTasksRequest.getDefaultInstance(), observer);
        return observer;
    }

    private RecordingStreamObserver<MeshStatusInfo> getMeshStatus() {
        RecordingStreamObserver<MeshStatusInfo> observer = new RecordingStreamObserver<>();
        admin.getMeshStatus(GetMeshStatusRequest.getDefaultInstance(), observer);
        return observer;
    }

    @Test
    public void managementTasksAreMappedFieldByFieldWithTheProtosSentinelsForAbsentValues() {
        ManagementTaskStatus ran = new ManagementTaskStatus("mesh-monitor", 42, "dev.meshhub.monitor", TaskScheduleState.WAITING,
                null, Duration.ofSeconds(30), Duration.ofSeconds(20), false, 7, 2, 1, 3, 1,
                T0, Duration.ofMillis(1234), RunOutcome.FAILED, "IOException: cannot write data/status/mesh.json", T0.plusSeconds(30));
        ManagementTaskStatus ignored = new ManagementTaskStatus("broken", 43, "com.example.tasks", TaskScheduleState.IGNORED,
                "meshhub.management.period is missing", null, null, false, 0, 0, 0, 0, 0, null, null, null, null, null);
        services.scheduler = () -> List.of(ran, ignored);

        RecordingStreamObserver<ListManagementTasksResponse> observer = listManagementTasks();

        assertTrue(observer.completed);
        List<ManagementTaskInfo> tasks = observer.sent.get(0).getTasksList();
        assertEquals(2, tasks.size());
        assertEquals(ManagementTaskInfo.newBuilder()
                .setName("mesh-monitor").setServiceId(42).setBundle("dev.meshhub.monitor").setState("WAITING")
                .setPeriodMs(30_000).setTimeLimitMs(20_000).setConcurrent(false)
                .setRuns(7).setFailures(2).setTimeouts(1).setSkipped(3).setConsecutiveFailures(1)
                .setLastStartMs(T0.toEpochMilli()).setLastDurationMs(1234).setLastOutcome("FAILED")
                .setLastError("IOException: cannot write data/status/mesh.json").setNextRunMs(T0.plusSeconds(30).toEpochMilli())
                .build(), tasks.get(0));
        assertEquals(ManagementTaskInfo.newBuilder()
                .setName("broken").setServiceId(43).setBundle("com.example.tasks").setState("IGNORED")
                .setProblem("meshhub.management.period is missing").setLastDurationMs(-1)
                .build(), tasks.get(1));
    }

    @Test
    public void withoutASchedulerTheCallSaysWhichFeatureToStart() {
        RecordingStreamObserver<ListManagementTasksResponse> observer = listManagementTasks();

        assertEquals(Status.Code.FAILED_PRECONDITION, observer.closedWith.getCode());
        assertEquals("no management scheduler is running; install/start the meshhub-scheduler feature (bundle dev.meshhub.scheduler)",
                observer.closedWith.getDescription());
        assertTrue(observer.sent.isEmpty());
    }

    @Test
    public void aSchedulerThatThrowsIsAnInternalErrorPointingAtTheLog() {
        services.scheduler = () -> {
            throw new IllegalStateException("scheduler stopping");
        };
        RecordingStreamObserver<ListManagementTasksResponse> observer = listManagementTasks();
        assertEquals(Status.Code.INTERNAL, observer.closedWith.getCode());
        assertTrue(observer.closedWith.getDescription(), observer.closedWith.getDescription().contains("see the hub log"));
    }

    @Test
    public void theLatestSnapshotBecomesMeshStatusInfoWithEveryTaskStatePresent() {
        NodeSession web2 = new NodeSession("n-b", "web-2", "10.0.0.2:4000", T0.minusSeconds(60), T0.minusSeconds(2));
        NodeSession web1 = new NodeSession("n-a", "web-1", "10.0.0.1:4000", T0.minusSeconds(90), T0.minusSeconds(1));
        MeshSnapshot snapshot = new MeshSnapshot(T0, List.of(web2, web1),
                Map.of(TaskState.RUNNING, 1L, TaskState.SUCCEEDED, 10L), 3L,
                new LockStats(2, Duration.ofMillis(4_250), 50, 46, 2, 9), List.of());
        services.meshStatus = () -> Optional.of(snapshot);

        RecordingStreamObserver<MeshStatusInfo> observer = getMeshStatus();

        assertTrue(observer.completed);
        MeshStatusInfo info = observer.sent.get(0);
        assertEquals(T0.toEpochMilli(), info.getTakenAtMs());
        assertTrue(info.getNodesKnown());
        assertEquals(List.of(
                NodeStatus.newBuilder().setNodeId("n-a").setName("web-1").setConnected(true).setAddress("10.0.0.1:4000")
                        .setConnectedSinceMs(T0.minusSeconds(90).toEpochMilli()).setLastHeartbeatMs(T0.minusSeconds(1).toEpochMilli()).build(),
                NodeStatus.newBuilder().setNodeId("n-b").setName("web-2").setConnected(true).setAddress("10.0.0.2:4000")
                        .setConnectedSinceMs(T0.minusSeconds(60).toEpochMilli()).setLastHeartbeatMs(T0.minusSeconds(2).toEpochMilli()).build()),
                info.getNodesList());
        assertTrue(info.getTasksKnown());
        assertEquals(Map.of("QUEUED", 0L, "DISPATCHED", 0L, "RUNNING", 1L, "SUCCEEDED", 10L, "FAILED", 0L, "CANCELLED", 0L,
                "TIMED_OUT", 0L), info.getTasksByStateMap());
        assertEquals(3, info.getJournalBacklog());
        assertTrue(info.getLocksKnown());
        assertEquals(2, info.getLiveLocks());
        assertEquals(4_250, info.getOldestLockAgeMs());
        assertEquals(2, info.getExpiredLocks());
        assertEquals(0, info.getUnavailableCount());
    }

    @Test
    public void missingPartsOfASnapshotAreFlaggedAndExplained() {
        MeshSnapshot snapshot = new MeshSnapshot(T0, null, null, null, null,
                List.of("nodes: the transport is not running", "tasks: the journal did not answer within 2 s",
                        "locks: no lock registry running"));
        services.meshStatus = () -> Optional.of(snapshot);

        MeshStatusInfo info = getMeshStatus().sent.get(0);

        assertFalse(info.getNodesKnown());
        assertEquals(0, info.getNodesCount());
        assertFalse(info.getTasksKnown());
        assertTrue(info.getTasksByStateMap().isEmpty());
        assertEquals(-1, info.getJournalBacklog());
        assertFalse(info.getLocksKnown());
        assertEquals(0, info.getLiveLocks());
        assertEquals(0, info.getOldestLockAgeMs());
        assertEquals(0, info.getExpiredLocks());
        assertEquals(List.of("nodes: the transport is not running", "tasks: the journal did not answer within 2 s",
                "locks: no lock registry running"), info.getUnavailableList());
    }

    @Test
    public void withoutAMonitorTheCallSaysWhatToStart() {
        RecordingStreamObserver<MeshStatusInfo> observer = getMeshStatus();

        assertEquals(Status.Code.FAILED_PRECONDITION, observer.closedWith.getCode());
        assertEquals("no mesh monitor is running; start the meshhub-monitor feature (bundle dev.meshhub.monitor) or deploy another monitor",
                observer.closedWith.getDescription());
        assertTrue(observer.sent.isEmpty());
    }

    @Test
    public void beforeTheFirstSnapshotTheCallIsUnavailableAndSaysToRetry() {
        services.meshStatus = Optional::empty;

        RecordingStreamObserver<MeshStatusInfo> observer = getMeshStatus();

        assertEquals(Status.Code.UNAVAILABLE, observer.closedWith.getCode());
        assertEquals("the monitor has not taken its first snapshot yet; retry in a few seconds", observer.closedWith.getDescription());
        assertNull(observer.closedWith.getCause());
    }
}
