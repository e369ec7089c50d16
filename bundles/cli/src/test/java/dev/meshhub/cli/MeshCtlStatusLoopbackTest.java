package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ManagementTaskInfo;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code meshctl admin tasks} and {@code meshctl status} against {@link FakeAdminHub} on 127.0.0.1. */
public class MeshCtlStatusLoopbackTest {

    /** 2026-01-01T00:01:00Z: what the commands take as now. */
    static final long NOW = 1_767_225_660_000L;

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private FakeAdminHub hub;
    private final Map<String, String> env = new HashMap<>();

    static final ManagementTaskInfo MONITOR = ManagementTaskInfo.newBuilder().setName("mesh-monitor").setServiceId(42)
            .setBundle("dev.meshhub.monitor").setState("WAITING").setPeriodMs(30_000).setTimeLimitMs(30_000)
            .setRuns(7).setFailures(2).setTimeouts(1).setSkipped(3).setConsecutiveFailures(1)
            .setLastStartMs(NOW - 27_000).setLastDurationMs(1_234).setLastOutcome("FAILED")
            .setLastError("IOException: cannot write data/status/mesh.json\n(disk full)").setNextRunMs(NOW + 3_000).build();
    static final ManagementTaskInfo CLEANUP = ManagementTaskInfo.newBuilder().setName("mirror-cleanup").setServiceId(43)
            .setBundle("dev.meshhub.mirror").setState("RUNNING").setPeriodMs(300_000).setTimeLimitMs(60_000)
            .setConcurrent(true).setRuns(12).setLastStartMs(NOW - 1_500).setLastDurationMs(250)
            .setLastOutcome("SUCCEEDED").setNextRunMs(NOW + 298_500).build();
    static final ManagementTaskInfo BROKEN = ManagementTaskInfo.newBuilder().setName("broken").setServiceId(44)
            .setBundle("com.example.tasks").setState("IGNORED").setProblem("meshhub.management.period is missing")
            .setLastDurationMs(-1).build();

    static final MeshStatusInfo SNAPSHOT = MeshStatusInfo.newBuilder().setTakenAtMs(NOW - 4_000).setNodesKnown(true)
            .addNodes(NodeStatus.newBuilder().setNodeId("n-0000000000a1").setName("web-1").setConnected(true)
                    .setAddress("10.0.0.1:40000").setConnectedSinceMs(1_767_225_600_000L).setLastHeartbeatMs(NOW - 5_500))
            .addNodes(NodeStatus.newBuilder().setNodeId("n-0000000000b2").setName("db-1").setConnected(true)
                    .setAddress("10.0.0.2:40000").setConnectedSinceMs(1_767_139_200_000L).setLastHeartbeatMs(NOW - 3_900))
            .setTasksKnown(true)
            // Keys as a map delivers them (any order), plus one state this meshctl does not know.
            .putTasksByState("TIMED_OUT", 0).putTasksByState("SUCCEEDED", 10).putTasksByState("QUEUED", 0)
            .putTasksByState("PAUSED", 2).putTasksByState("RUNNING", 1).putTasksByState("FAILED", 3)
            .putTasksByState("DISPATCHED", 0).putTasksByState("CANCELLED", 0)
            .setJournalBacklog(5)
            .setLocksKnown(true).setLiveLocks(2).setOldestLockAgeMs(4_250).setExpiredLocks(1).build();

    @Before
    public void setUp() throws IOException {
        hub = new FakeAdminHub();
        Path home = tmp.newFolder("hub-home").toPath();
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve("etc/admin.token"), FakeAdminHub.ADMIN_TOKEN + "\n");
        env.put("MESHHUB_ADMIN_ADDRESS", hub.address());
        env.put("MESHHUB_HOME", home.toString());
        hub.managementTasks.add(MONITOR);
        hub.managementTasks.add(CLEANUP);
        hub.managementTasks.add(BROKEN);
        hub.meshStatus = SNAPSHOT;
    }

    @After
    public void tearDown() throws InterruptedException {
        hub.close();
    }

    private MeshCtlLoopbackTest.Result meshctl(String... args) {
        return MeshCtlLoopbackTest.Result.of(env, Interrupts.NONE, Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC), args);
    }


    @Test
    public void adminTasksTableShowsAgesAndThenProblemsAndLastErrors() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("admin", "tasks");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "NAME            STATE    PERIOD  LAST-RUN  DURATION  OUTCOME    FAILURES  TIMEOUTS  SKIPPED  NEXT-RUN\n"
                + "mesh-monitor    WAITING  30s     27s ago   1.2s      FAILED     2         1         3        in 3s\n"
                + "mirror-cleanup  RUNNING  5m      1s ago    250ms     SUCCEEDED  0         0         0        in 4m58s\n"
                + "broken          IGNORED  -       -         -         -          0         0         0        -\n"
                + "mesh-monitor: last error: IOException: cannot write data/status/mesh.json?(disk full)\n"
                + "broken: ignored: meshhub.management.period is missing\n", r.out);
        assertEquals("", r.err);
        hub.awaitRequest(ListManagementTasksRequest.class);

        hub.managementTasks.clear();
        r = meshctl("admin", "tasks");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("NAME  STATE  PERIOD  LAST-RUN  DURATION  OUTCOME  FAILURES  TIMEOUTS  SKIPPED  NEXT-RUN\n", r.out);
        assertEquals("no management tasks registered\n", r.err);
    }

    @Test
    public void adminTasksJsonHasEveryFieldWithNullsForWhatHasNotHappened() {
        MeshCtlLoopbackTest.Result r = meshctl("admin", "tasks", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("[\n"
                + "{\"name\":\"mesh-monitor\",\"serviceId\":42,\"bundle\":\"dev.meshhub.monitor\",\"state\":\"WAITING\","
                + "\"problem\":null,\"periodMillis\":30000,\"timeLimitMillis\":30000,\"concurrent\":false,\"runs\":7,"
                + "\"failures\":2,\"timeouts\":1,\"skipped\":3,\"consecutiveFailures\":1,"
                + "\"lastStart\":\"2026-01-01T00:00:33Z\",\"lastDurationMillis\":1234,\"lastOutcome\":\"FAILED\","
                + "\"lastError\":\"IOException: cannot write data/status/mesh.json\\n(disk full)\","
                + "\"nextRun\":\"2026-01-01T00:01:03Z\"}\n"
                + ",{\"name\":\"mirror-cleanup\",\"serviceId\":43,\"bundle\":\"dev.meshhub.mirror\",\"state\":\"RUNNING\","
                + "\"problem\":null,\"periodMillis\":300000,\"timeLimitMillis\":60000,\"concurrent\":true,\"runs\":12,"
                + "\"failures\":0,\"timeouts\":0,\"skipped\":0,\"consecutiveFailures\":0,"
                + "\"lastStart\":\"2026-01-01T00:00:58.500Z\",\"lastDurationMillis\":250,\"lastOutcome\":\"SUCCEEDED\","
                + "\"lastError\":null,\"nextRun\":\"2026-01-01T00:05:58.500Z\"}\n"
                + ",{\"name\":\"broken\",\"serviceId\":44,\"bundle\":\"com.example.tasks\",\"state\":\"IGNORED\","
                + "\"problem\":\"meshhub.management.period is missing\",\"periodMillis\":0,\"timeLimitMillis\":0,"
                + "\"concurrent\":false,\"runs\":0,\"failures\":0,\"timeouts\":0,\"skipped\":0,\"consecutiveFailures\":0,"
                + "\"lastStart\":null,\"lastDurationMillis\":null,\"lastOutcome\":null,\"lastError\":null,\"nextRun\":null}\n"
                + "]\n", r.out);
        assertEquals("", r.err);

        hub.managementTasks.clear();
        r = meshctl("admin", "tasks", "--json");
        assertEquals("[]\n", r.out);
        assertEquals("", r.err);
    }

    @Test
    public void withoutASchedulerAdminTasksPrintsTheHubsAdviceAndExits1() {
        hub.managementTasksRefusal = Status.FAILED_PRECONDITION.withDescription("no management scheduler is running;"
                + " install/start the meshhub-scheduler feature (bundle dev.meshhub.scheduler)");
        for (String[] args : new String[][] {{"admin", "tasks"}, {"admin", "tasks", "--json"}}) {
            MeshCtlLoopbackTest.Result r = meshctl(args);
            assertEquals(r.toString(), 1, r.code);
            assertEquals("", r.out);
            assertEquals("meshctl: no management scheduler is running; install/start the meshhub-scheduler feature"
                    + " (bundle dev.meshhub.scheduler)\n", r.err);
        }
    }

    @Test
    public void statusTextShowsTheSnapshotNodesTaskCountsInLifecycleOrderAndBacklog() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("status");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "snapshot taken 2026-01-01T00:00:56Z (4s ago)\n"
                + "nodes connected: 2\n"
                + "NAME   ID              ADDRESS         CONNECTED-SINCE       LAST-HEARTBEAT\n"
                + "web-1  n-0000000000a1  10.0.0.1:40000  2026-01-01T00:00:00Z  5s ago\n"
                + "db-1   n-0000000000b2  10.0.0.2:40000  2025-12-31T00:00:00Z  3s ago\n"
                + "tasks: QUEUED 0, DISPATCHED 0, RUNNING 1, SUCCEEDED 10, FAILED 3, CANCELLED 0, TIMED_OUT 0, PAUSED 2\n"
                + "journal backlog: 5\n"
                + "locks: 2 live (oldest 4.2s), 1 expired by the sweep\n", r.out);
        assertEquals("", r.err);
        hub.awaitRequest(GetMeshStatusRequest.class);
    }

    @Test
    public void statusTextSaysWhichPartsAreUnknownAndWhy() {
        hub.meshStatus = MeshStatusInfo.newBuilder().setTakenAtMs(NOW - 65_000).setJournalBacklog(-1)
                .addUnavailable("nodes: the transport is not running")
                .addUnavailable("tasks: the journal did not answer within 2 s").build();
        MeshCtlLoopbackTest.Result r = meshctl("status");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "snapshot taken 2025-12-31T23:59:55Z (1m5s ago)\n"
                + "nodes connected: unknown\n"
                + "tasks: unknown\n"
                + "journal backlog: unknown\n"
                + "locks: unknown\n"
                + "unavailable: nodes: the transport is not running\n"
                + "unavailable: tasks: the journal did not answer within 2 s\n", r.out);

        hub.meshStatus = MeshStatusInfo.newBuilder().setTakenAtMs(NOW).setNodesKnown(true).setJournalBacklog(0).build();
        r = meshctl("status");
        assertEquals("snapshot taken 2026-01-01T00:01:00Z (now)\nnodes connected: 0\ntasks: unknown\njournal backlog: 0\n"
                + "locks: unknown\n", r.out);
    }

    @Test
    public void statusTextShowsNoLockAgeWhenNoneIsLiveAndLongAgesInMinutes() {
        hub.meshStatus = SNAPSHOT.toBuilder().setLiveLocks(0).setOldestLockAgeMs(0).setExpiredLocks(0).build();
        MeshCtlLoopbackTest.Result r = meshctl("status");
        assertEquals(r.toString(), 0, r.code);
        assertTrue(r.out, r.out.endsWith("journal backlog: 5\nlocks: 0 live, 0 expired by the sweep\n"));

        hub.meshStatus = SNAPSHOT.toBuilder().setLiveLocks(1).setOldestLockAgeMs(305_000).setExpiredLocks(12).build();
        r = meshctl("status");
        assertTrue(r.out, r.out.endsWith("locks: 1 live (oldest 5m5s), 12 expired by the sweep\n"));

        r = meshctl("status", "--json");
        assertTrue(r.out, r.out.contains(",\"locks\":{\"live\":1,\"oldestAgeMillis\":305000,\"expired\":12},"));
    }

    @Test
    public void statusJsonHasTheShapeOfTheMonitorsStatusFile() {
        MeshCtlLoopbackTest.Result r = meshctl("status", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("{\"takenAt\":\"2026-01-01T00:00:56Z\","
                + "\"nodes\":{\"connected\":2,\"list\":["
                + "{\"id\":\"n-0000000000a1\",\"name\":\"web-1\",\"address\":\"10.0.0.1:40000\","
                + "\"connectedSince\":\"2026-01-01T00:00:00Z\",\"lastHeartbeat\":\"2026-01-01T00:00:54.500Z\","
                + "\"heartbeatAgeMillis\":1500},"
                + "{\"id\":\"n-0000000000b2\",\"name\":\"db-1\",\"address\":\"10.0.0.2:40000\","
                + "\"connectedSince\":\"2025-12-31T00:00:00Z\",\"lastHeartbeat\":\"2026-01-01T00:00:56.100Z\","
                + "\"heartbeatAgeMillis\":0}]},"
                + "\"tasks\":{\"QUEUED\":0,\"DISPATCHED\":0,\"RUNNING\":1,\"SUCCEEDED\":10,\"FAILED\":3,\"CANCELLED\":0,"
                + "\"TIMED_OUT\":0,\"PAUSED\":2},"
                + "\"journal\":{\"backlog\":5},"
                + "\"locks\":{\"live\":2,\"oldestAgeMillis\":4250,\"expired\":1},"
                + "\"unavailable\":[]}\n", r.out);

        hub.meshStatus = MeshStatusInfo.newBuilder().setTakenAtMs(NOW).setJournalBacklog(-1)
                .addUnavailable("nodes: the transport is not running").build();
        r = meshctl("status", "--json");
        assertEquals("{\"takenAt\":\"2026-01-01T00:01:00Z\",\"nodes\":null,\"tasks\":null,\"journal\":null,"
                + "\"locks\":null,\"unavailable\":[\"nodes: the transport is not running\"]}\n", r.out);
    }

    @Test
    public void withoutAMonitorStatusPrintsTheHubsAdviceAndExits1() {
        hub.meshStatusRefusal = Status.FAILED_PRECONDITION.withDescription("no mesh monitor is running; start the"
                + " meshhub-monitor feature (bundle dev.meshhub.monitor) or deploy another monitor");
        MeshCtlLoopbackTest.Result r = meshctl("status");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("", r.out);
        assertEquals("meshctl: no mesh monitor is running; start the meshhub-monitor feature (bundle dev.meshhub.monitor)"
                + " or deploy another monitor\n", r.err);
    }

    @Test
    public void beforeTheFirstSnapshotStatusSaysToRetryAndExits1() {
        hub.meshStatusRefusal = Status.UNAVAILABLE.withDescription(
                "the monitor has not taken its first snapshot yet; retry in a few seconds");
        MeshCtlLoopbackTest.Result r = meshctl("status", "--json");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("", r.out);
        assertEquals("meshctl: the hub's admin API at " + hub.address() + " is unavailable: the monitor has not taken"
                + " its first snapshot yet; retry in a few seconds\n", r.err);
    }

    @Test
    public void usageErrorsExit2WithoutCallingTheHub() {
        for (String[] args : new String[][] {{"admin"}, {"admin", "frob"}, {"admin", "tasks", "x"}, {"status", "x"},
                {"status", "--yaml"}}) {
            MeshCtlLoopbackTest.Result r = meshctl(args);
            assertEquals(String.join(" ", args) + ": " + r, 2, r.code);
            assertTrue(r.err, r.err.startsWith("meshctl: "));
            assertEquals("", r.out);
        }
        assertTrue(hub.authorizationHeaders.isEmpty());
    }
}
