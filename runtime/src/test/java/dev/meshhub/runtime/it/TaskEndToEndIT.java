package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;

/**
 * Work on a real node process, driven by meshctl against a real hub process: exec with live output
 * and the remote exit code, early refusal by policy, PERMISSIVE by explicit admin act, a node killed
 * mid-task, and the hub killed mid-task.
 */
public class TaskEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    @Test
    public void execShowsOutputAndExitCodeAndThePolicyDecidesWhatRuns() throws Exception {
        runtime.enrolledNode("worker");

        RuntimeUnderTest.Result hello = runtime.meshctl("exec", "worker", "--", "echo", "hello", "from a node");
        hello.assertExit(0);
        assertEquals("hello from a node\n", hello.stdout());

        RuntimeUnderTest.Result missing = runtime.meshctl("exec", "worker", "--", "ls", "/no/such/path");
        assertEquals("ls's own exit code comes back", 2, missing.exit());
        assertTrue(missing.stderr(), missing.stderr().contains("No such file"));

        RuntimeUnderTest.Result refused = runtime.meshctl("exec", "worker", "--", "rm", "-rf", "/tmp/x");
        assertEquals(1, refused.exit());
        assertTrue(refused.stderr(), refused.stderr().contains("runs under STRICT policy; 'rm' is not on its allowlist"));
        assertTrue(refused.stderr(), refused.stderr().contains("rule strict.allowlist"));

        RuntimeUnderTest.Result shell = runtime.meshctl("exec", "worker", "--shell", "echo a; exit 3");
        assertEquals(1, shell.exit());
        assertTrue(shell.stderr(), shell.stderr().contains("rule strict.no-shell"));

        RuntimeUnderTest.Result unconfirmed = runtime.meshctl("policy", "set", "worker", "permissive");
        assertEquals(2, unconfirmed.exit());
        runtime.meshctl("policy", "set", "worker", "permissive", "--yes").assertExit(0);
        RuntimeUnderTest.Result permissive = runtime.meshctl("exec", "worker", "--shell", "echo a; exit 3");
        assertEquals(3, permissive.exit());
        assertEquals("a\n", permissive.stdout());

        RuntimeUnderTest.Result tasks = runtime.meshctl("tasks", "--node", "worker", "--json");
        tasks.assertExit(0);
        assertTrue(tasks.stdout(), tasks.stdout().contains("\"succeeded\"") || tasks.stdout().contains("SUCCEEDED"));
    }

    @Test
    public void aNodeKilledMidTaskFailsTheTaskWithinASecondDurably() throws Exception {
        Process node = runtime.enrolledNode("doomed");
        Process exec = runtime.meshctlInBackground("long-exec", "exec", "doomed", "--", "sleep", "60");
        TaskInfo running = runtime.runningTask("doomed");

        node.destroyForcibly().waitFor();
        long killed = System.nanoTime();
        Poll.until("the task failed after the node was killed", PATIENCE, () -> runtime.taskState(running.getTaskId()) == TaskState.FAILED);
        long failedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        System.out.printf("meshhub e2e: task failed %d ms after its node was killed%n", failedMillis);
        assertTrue("failed within a second, took " + failedMillis + " ms", failedMillis <= 1000);

        TaskInfo failed = runtime.task(running.getTaskId());
        assertTrue(failed.getDiagnostic(), failed.getDiagnostic().contains("disconnected"));
        assertTrue(failed.getDiagnostic(), failed.getDiagnostic().contains("last heartbeat"));
        assertTrue("meshctl exec ends", exec.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(1, exec.exitValue());
    }

    @Test
    public void aHubKilledMidTaskLeavesItFailedWithOutcomeUnknownAfterRestart() throws Exception {
        runtime.enrolledNode("survivor");
        runtime.meshctlInBackground("long-exec", "exec", "survivor", "--", "sleep", "60");
        TaskInfo running = runtime.runningTask("survivor");

        runtime.hub.destroyForcibly().waitFor();
        runtime.startHub();

        TaskInfo after = runtime.task(running.getTaskId());
        assertEquals(TaskState.FAILED, after.getState());
        assertEquals("outcome unknown: hub stopped while the task was in flight", after.getDiagnostic());
        // The node comes back by itself, and nothing re-ran the task.
        Poll.until("survivor reconnected", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"survivor\""));
        assertEquals(1, runtime.admin().listTasks(ListTasksRequest.newBuilder().setNode("survivor").build()).getTasksCount());
    }

    @Test
    public void aPolicyBundleDroppedIntoDeployTakesOverWithTheNodeConnected() throws Exception {
        Process node = runtime.enrolledNode("deployed");
        // printf is not on the default allowlist: only a node that received the new policy runs it.
        Files.writeString(runtime.home.resolve("etc/node-allowlists.properties"), "* = uname, printf\n");
        Path staged = runtime.home.resolve("policy-file-example.jar.part");
        Files.copy(HubTestSupport.examplePolicyBundle(), staged);
        Path deployed = runtime.home.resolve("deploy/policy-file-example.jar");
        Files.move(staged, deployed, StandardCopyOption.ATOMIC_MOVE);

        Poll.until("the file policy in force", PATIENCE, () -> runtime.meshctlQuietly("policy", "get", "deployed").contains("dev.meshhub.policy.file"));
        RuntimeUnderTest.Result printf = runtime.meshctl("exec", "deployed", "--", "printf", "%s-%s", "new", "policy");
        printf.assertExit(0);
        assertEquals("new-policy", printf.stdout());
        RuntimeUnderTest.Result echo = runtime.meshctl("exec", "deployed", "--", "echo", "hi");
        assertEquals(1, echo.exit());
        assertTrue(echo.stderr(), echo.stderr().contains("'echo' is not on its allowlist (allowed: uname, printf)"));

        Files.delete(deployed);
        Poll.until("the default policy back", PATIENCE, () -> runtime.meshctlQuietly("policy", "get", "deployed").contains("dev.meshhub.policy.default"));
        runtime.meshctl("exec", "deployed", "--", "echo", "hi").assertExit(0);
        assertTrue("the node's session survived both swaps", node.isAlive());
        assertTrue(runtime.log("deployed-workspace.log"), !runtime.log("deployed-workspace.log").contains("disconnected"));
    }
}
