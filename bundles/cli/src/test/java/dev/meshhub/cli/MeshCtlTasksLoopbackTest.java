package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshhub.proto.v1.CancelTaskRequest;
import dev.meshhub.proto.v1.GetPolicyRequest;
import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.PolicyInfo;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.SetPolicyRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code meshctl tasks | task | cancel | policy} against {@link FakeAdminHub} on 127.0.0.1. */
public class MeshCtlTasksLoopbackTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private FakeAdminHub hub;
    private final Map<String, String> env = new HashMap<>();

    static final TaskInfo RUNNING = TaskInfo.newBuilder().setTaskId("t-000002").setNodeId("n-0000000000a1")
            .setNodeName("web-1").setKind("command").setSummary("tail -f /var/log/syslog").setState(TaskState.RUNNING)
            .setCreatedAtMs(1_767_225_600_000L).setDispatchedAtMs(1_767_225_601_000L)
            .setStartedAtMs(1_767_225_602_000L).build();
    static final TaskInfo FAILED = TaskInfo.newBuilder().setTaskId("t-000001").setNodeId("n-0000000000b2")
            .setKind("command").setSummary("echo 'a\tb' && " + "0123456789".repeat(6)).setState(TaskState.FAILED)
            .setExitCode(3).setDiagnostic("exited with 3").setCreatedAtMs(1_767_139_200_000L)
            .setFinishedAtMs(1_767_139_205_000L)
            .setOutputTail(ByteString.copyFrom(new byte[] {'o', 'k', '\n', (byte) 0xff, 'b', 'o', 'o', 'm'}))
            .build();
    static final PolicyInfo POLICY = PolicyInfo.newBuilder().setNodeId("n-0000000000a1").setNodeName("web-1")
            .setSource("dev.meshhub.policy.default").setPolicy(SandboxPolicy.newBuilder()
                    .setMode(SandboxPolicy.Mode.STRICT).addAllowedExecutables("uname")
                    .addAllowedExecutables("/usr/bin/make").setRevision(3))
            .build();

    @Before
    public void setUp() throws IOException {
        hub = new FakeAdminHub();
        Path home = tmp.newFolder("hub-home").toPath();
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve("etc/admin.token"), FakeAdminHub.ADMIN_TOKEN + "\n");
        env.put("MESHHUB_ADMIN_ADDRESS", hub.address());
        env.put("MESHHUB_HOME", home.toString());
        hub.tasks.add(RUNNING);
        hub.tasks.add(FAILED);
        hub.policies.add(POLICY);
    }

    @After
    public void tearDown() throws InterruptedException {
        hub.close();
    }

    private MeshCtlLoopbackTest.Result meshctl(String... args) {
        return MeshCtlLoopbackTest.Result.of(env, Interrupts.NONE, Clock.systemUTC(), args);
    }


    @Test
    public void tasksTableShowsNewestFirstWithTheSummaryCut() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("tasks");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "TASK      NODE            STATE    EXIT  CREATED               SUMMARY\n"
                + "t-000002  web-1           running  -     2026-01-01T00:00:00Z  tail -f /var/log/syslog\n"
                + "t-000001  n-0000000000b2  failed   3     2025-12-31T00:00:00Z  "
                + "echo 'a?b' && 0123456789012345678901234567890123456789012...\n", r.out);
        assertEquals("", r.err);
        ListTasksRequest request = hub.awaitRequest(ListTasksRequest.class);
        assertEquals("", request.getNode());
        assertEquals(TaskState.TASK_STATE_UNSPECIFIED, request.getState());
        assertEquals(0, request.getLimit());
    }

    @Test
    public void tasksFiltersArePassedThroughAndStateNamesAreCaseInsensitive() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("tasks", "--node", "web-1", "--state", "RUNNING", "--limit", "5");
        assertEquals(r.toString(), 0, r.code);
        assertTrue(r.out, r.out.contains("t-000002") && !r.out.contains("t-000001"));
        ListTasksRequest request = hub.awaitRequest(ListTasksRequest.class);
        assertEquals("web-1", request.getNode());
        assertEquals(TaskState.RUNNING, request.getState());
        assertEquals(5, request.getLimit());

        r = meshctl("tasks", "--state", "Timed-Out");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(TaskState.TIMED_OUT, hub.awaitRequest(ListTasksRequest.class).getState());
        assertEquals("TASK  NODE  STATE  EXIT  CREATED  SUMMARY\n", r.out);
        assertEquals("no tasks match\n", r.err);
    }

    @Test
    public void tasksJsonIsAnArrayWithNullsForUnsetFields() {
        MeshCtlLoopbackTest.Result r = meshctl("tasks", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("[\n"
                + "{\"id\":\"t-000002\",\"node\":\"web-1\",\"nodeId\":\"n-0000000000a1\",\"state\":\"running\",\"kind\":\"command\","
                + "\"exitCode\":null,\"createdAt\":\"2026-01-01T00:00:00Z\",\"dispatchedAt\":\"2026-01-01T00:00:01Z\","
                + "\"startedAt\":\"2026-01-01T00:00:02Z\",\"finishedAt\":null,\"summary\":\"tail -f /var/log/syslog\","
                + "\"diagnostic\":null}\n"
                + ",{\"id\":\"t-000001\",\"node\":null,\"nodeId\":\"n-0000000000b2\",\"state\":\"failed\",\"kind\":\"command\","
                + "\"exitCode\":3,\"createdAt\":\"2025-12-31T00:00:00Z\",\"dispatchedAt\":null,\"startedAt\":null,"
                + "\"finishedAt\":\"2025-12-31T00:00:05Z\",\"summary\":\"echo 'a\\tb' && "
                + "0123456789".repeat(6) + "\",\"diagnostic\":\"exited with 3\"}\n"
                + "]\n", r.out);
        assertEquals("", r.err);

        hub.tasks.clear();
        assertEquals("[]\n", meshctl("tasks", "--json").out);
    }

    @Test
    public void badStateOrLimitIsAUsageErrorListingTheValidStates() {
        MeshCtlLoopbackTest.Result r = meshctl("tasks", "--state", "done");
        assertEquals(r.toString(), 2, r.code);
        assertTrue(r.err, r.err.startsWith("meshctl: "));
        assertTrue(r.err, r.err.contains(
                "'done' is not a task state (valid: queued, dispatched, running, succeeded, failed, cancelled,"
                        + " timed_out)"));
        assertEquals(r.toString(), 1, r.err.split("\n", -1).length - 1);

        r = meshctl("tasks", "--limit", "0");
        assertEquals(r.toString(), 2, r.code);
        assertTrue(r.err, r.err.startsWith("meshctl: --limit must be a positive number"));
        assertTrue(hub.authorizationHeaders.isEmpty());
    }

    @Test
    public void taskShowsDetailsDiagnosticAndTheOutputTailAsText() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("task", "t-000001");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(failedDetail("t-000001", ""), r.out);
        assertEquals("t-000001", hub.awaitRequest(GetTaskRequest.class).getTaskId());

        r = meshctl("task", "t-000002");
        assertTrue(r.out, r.out.startsWith("task        t-000002\nnode        web-1 (n-0000000000a1)\n"));
        assertTrue(r.out, r.out.endsWith("diagnostic  -\noutput tail: (none)\n"));
    }

    @Test
    public void taskJsonAddsTheOutputTail() {
        MeshCtlLoopbackTest.Result r = meshctl("task", "t-000001", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("{\"id\":\"t-000001\",\"node\":null,\"nodeId\":\"n-0000000000b2\",\"state\":\"failed\",\"kind\":\"command\","
                + "\"exitCode\":3,\"createdAt\":\"2025-12-31T00:00:00Z\",\"dispatchedAt\":null,\"startedAt\":null,"
                + "\"finishedAt\":\"2025-12-31T00:00:05Z\",\"summary\":\"echo 'a\\tb' && " + "0123456789".repeat(6)
                + "\",\"diagnostic\":\"exited with 3\",\"outputTail\":\"ok\\n\\ufffdboom\"}\n", r.out);
    }

    /** What meshctl task prints for the FAILED task of these tests under another id, with {@code outputLine} before the tail. */
    private static String failedDetail(String taskId, String outputLine) {
        return ""
                + "task        " + taskId + "\n"
                + "node        n-0000000000b2\n"
                + "kind        command\n"
                + "state       failed\n"
                + "exit code   3\n"
                + "summary     echo 'a?b' && " + "0123456789".repeat(6) + "\n"
                + "created     2025-12-31T00:00:00Z\n"
                + "dispatched  -\n"
                + "started     -\n"
                + "finished    2025-12-31T00:00:05Z\n"
                + "diagnostic  exited with 3\n"
                + outputLine
                + "output tail (last 8 bytes):\n"
                + "ok\n\ufffdboom\n";
    }

    static final String TRUNCATION = "log truncated: the per-task cap of 1073741824 bytes (maxTaskLogBytes) was reached at"
            + " output byte 1073741824";

    @Test
    public void taskShowsTheOutputsSizeAndWhyItsLogLeftSomeOut() {
        hub.tasks.add(FAILED.toBuilder().setTaskId("t-000003").setOutputBytes(2_147_483_648L).setOutputTruncation(TRUNCATION)
                .build());
        hub.tasks.add(FAILED.toBuilder().setTaskId("t-000004").setOutputBytes(12_345).build());
        hub.tasks.add(FAILED.toBuilder().setTaskId("t-000005").setOutputBytes(-1).build());
        hub.tasks.add(RUNNING.toBuilder().setTaskId("t-000006").setOutputBytes(0).setOutputTruncation("log truncated:\tdisk full")
                .build());

        MeshCtlLoopbackTest.Result r = meshctl("task", "t-000003");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(failedDetail("t-000003", "output      2147483648 bytes (" + TRUNCATION + ")\n"), r.out);

        r = meshctl("task", "t-000004");
        assertTrue(r.out, r.out.contains("diagnostic  exited with 3\noutput      12345 bytes\noutput tail (last 8 bytes):\n"));
        // Not known (-1, or a hub older than the field: 0): nothing more than before.
        String unknown = meshctl("task", "t-000005").out;
        assertEquals(meshctl("task", "t-000001").out.replace("t-000001", "t-000005"), unknown);
        assertFalse(unknown, unknown.contains("bytes ("));
        // Beside a truncation, 0 bytes is said; the reason stays on its line.
        r = meshctl("task", "t-000006");
        assertTrue(r.out, r.out.endsWith("diagnostic  -\noutput      0 bytes (log truncated:?disk full)\noutput tail: (none)\n"));
    }

    @Test
    public void taskJsonAddsTheOutputsSizeAndTruncationOnlyWhenKnown() {
        hub.tasks.add(FAILED.toBuilder().setTaskId("t-000003").setOutputBytes(2_147_483_648L).setOutputTruncation(TRUNCATION)
                .build());
        hub.tasks.add(FAILED.toBuilder().setTaskId("t-000004").setOutputBytes(12_345).build());
        hub.tasks.add(FAILED.toBuilder().setTaskId("t-000005").setOutputBytes(-1).build());

        MeshCtlLoopbackTest.Result r = meshctl("task", "t-000003", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("{\"id\":\"t-000003\",\"node\":null,\"nodeId\":\"n-0000000000b2\",\"state\":\"failed\",\"kind\":\"command\","
                + "\"exitCode\":3,\"createdAt\":\"2025-12-31T00:00:00Z\",\"dispatchedAt\":null,\"startedAt\":null,"
                + "\"finishedAt\":\"2025-12-31T00:00:05Z\",\"summary\":\"echo 'a\\tb' && " + "0123456789".repeat(6)
                + "\",\"diagnostic\":\"exited with 3\",\"outputBytes\":2147483648,\"outputTruncation\":\"" + TRUNCATION
                + "\",\"outputTail\":\"ok\\n\\ufffdboom\"}\n", r.out);

        r = meshctl("task", "t-000004", "--json");
        assertTrue(r.out, r.out.contains("\"diagnostic\":\"exited with 3\",\"outputBytes\":12345,\"outputTail\":"));
        assertFalse(r.out, r.out.contains("outputTruncation"));
        r = meshctl("task", "t-000005", "--json");
        assertFalse(r.out, r.out.contains("outputBytes") || r.out.contains("outputTruncation"));
        // The listing's objects carry them too.
        r = meshctl("tasks", "--json");
        assertTrue(r.out, r.out.contains("\"id\":\"t-000003\"")
                && r.out.contains("\"outputBytes\":2147483648,\"outputTruncation\":"));
    }

    @Test
    public void unknownTaskIsTheHubsMessageAndExit1() {
        MeshCtlLoopbackTest.Result r = meshctl("task", "t-nope");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: no task 't-nope'; see 'meshctl tasks'\n", r.err);
        r = meshctl("cancel", "t-nope");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: no task 't-nope'; see 'meshctl tasks'\n", r.err);
    }

    @Test
    public void cancelSendsTheReasonAndPrintsTheStateAfterwards() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("cancel", "t-000002", "--reason", "stuck on input");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("cancel sent to t-000002 (state now running)\n", r.out);
        CancelTaskRequest request = hub.awaitRequest(CancelTaskRequest.class);
        assertEquals("t-000002", request.getTaskId());
        assertEquals("stuck on input", request.getReason());

        assertEquals(0, meshctl("cancel", "t-000002").code);
        assertEquals("", hub.awaitRequest(CancelTaskRequest.class).getReason());
    }

    @Test
    public void policyGetShowsModeRevisionSourceAndAllowlist() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("policy", "get", "web-1");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "node      web-1 (n-0000000000a1)\n"
                + "mode      strict\n"
                + "revision  3\n"
                + "source    dev.meshhub.policy.default\n"
                + "allowed executables:\n"
                + "  uname\n"
                + "  /usr/bin/make\n", r.out);
        assertEquals("web-1", hub.awaitRequest(GetPolicyRequest.class).getNode());

        r = meshctl("policy", "get", "n-0000000000a1", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("{\"node\":\"web-1\",\"nodeId\":\"n-0000000000a1\",\"mode\":\"strict\",\"revision\":3,"
                + "\"source\":\"dev.meshhub.policy.default\",\"allowedExecutables\":[\"uname\",\"/usr/bin/make\"]}\n",
                r.out);

        r = meshctl("policy", "get", "ghost");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: no node with id or name 'ghost'\n", r.err);
    }

    @Test
    public void policySetStrictAndPermissiveWithYesSendTheModeAndConfirm() throws Exception {
        MeshCtlLoopbackTest.Result r = meshctl("policy", "set", "web-1", "STRICT");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("policy of web-1 (n-0000000000a1) is now strict (revision 4)\n", r.out);
        SetPolicyRequest request = hub.awaitRequest(SetPolicyRequest.class);
        assertEquals("web-1", request.getNode());
        assertEquals(SandboxPolicy.Mode.STRICT, request.getMode());
        assertFalse(request.getConfirm());

        r = meshctl("policy", "set", "web-1", "permissive", "--yes");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("policy of web-1 (n-0000000000a1) is now permissive (revision 5)\n", r.out);
        request = hub.awaitRequest(SetPolicyRequest.class);
        assertEquals(SandboxPolicy.Mode.PERMISSIVE, request.getMode());
        assertTrue(request.getConfirm());
    }

    @Test
    public void permissiveWithoutYesNeverReachesTheHub() {
        for (String mode : new String[] {"permissive", "Permissive"}) {
            MeshCtlLoopbackTest.Result r = meshctl("policy", "set", "web-1", mode);
            assertEquals(r.toString(), 2, r.code);
            assertEquals("", r.out);
            assertEquals("meshctl: PERMISSIVE lets web-1 run shell commands; add --yes to confirm\n", r.err);
        }
        assertTrue("no call at all", hub.authorizationHeaders.isEmpty());
        assertTrue(hub.requests.isEmpty());
        assertEquals(3, hub.policies.get(0).getPolicy().getRevision());
    }

    @Test
    public void usageErrorsExit2WithoutCallingTheHub() {
        for (String[] args : new String[][] {
                {"tasks", "--state"}, {"tasks", "--limit", "x"}, {"task"}, {"task", "a", "b"}, {"cancel"},
                {"policy"}, {"policy", "get"}, {"policy", "set", "web-1"}, {"policy", "set", "web-1", "lax"},
                {"policy", "frob", "web-1"}}) {
            MeshCtlLoopbackTest.Result r = meshctl(args);
            assertEquals(String.join(" ", args) + ": " + r, 2, r.code);
            assertTrue(r.err, r.err.startsWith("meshctl: "));
            assertEquals(r.toString(), 1, r.err.split("\n", -1).length - 1);
            assertEquals("", r.out);
        }
        assertTrue(hub.authorizationHeaders.isEmpty());
    }
}
