package dev.meshhub.node;

import static dev.meshhub.node.TaskHarness.assertAllRunning;
import static dev.meshhub.node.TaskHarness.awaitGone;
import static dev.meshhub.node.TaskHarness.permissive;
import static dev.meshhub.node.TaskHarness.shell;
import static dev.meshhub.node.TaskHarness.treeOfThree;
import static dev.meshhub.node.TaskHarness.treePids;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.TaskFinished;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;

/**
 * Ending tasks (RELIABILITY 18, 20): timeout, cancel, a lost session and the agent's own stop end
 * the task's whole process tree, SIGTERM first and SIGKILL after the grace; no process survives,
 * not even one the task left running when it exited.
 * Each script prints the pids of its background children so the test can check every one.
 */
public class TaskProcessTreeLoopbackTest {

    @Rule
    public final TaskHarness harness = new TaskHarness();

    /** Starts the tree-of-three script and returns its three pids once the script printed them. */
    private static List<Long> startTree(FakeHub.NodeStream hub, String taskId, String prefix, int timeoutMs,
            int graceMs) throws InterruptedException {
        hub.assign(taskId, treeOfThree(prefix).setTimeoutMs(timeoutMs).setKillGraceMs(graceMs).build());
        TaskRun run = hub.awaitTask(taskId, r -> r.isFinished() || r.printedPids().size() == 2);
        List<Long> pids = treePids(run);
        assertEquals("the script's pid and its two children: " + run, 3, pids.size());
        return pids;
    }

    @Test
    public void timeoutEndsTheWholeProcessTree() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        List<Long> pids = startTree(hub, "t-timeout", "", 1_500, 2_000);
        TaskRun run = hub.awaitFinished("t-timeout");
        run.assertWellFormed();
        TaskFinished f = run.finished();
        assertEquals(run.toString(), TaskFinished.Outcome.TIMED_OUT, f.getOutcome());
        assertEquals("timed out after 1500 ms", f.getDiagnostic());
        assertEquals("sh ended by SIGTERM", 128 + 15, f.getExitCode());
        awaitGone(pids);
    }

    @Test
    public void cancelEndsTheWholeProcessTree() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        List<Long> pids = startTree(hub, "t-cancel", "", 0, 2_000);
        assertAllRunning(pids);
        hub.cancel("t-cancel", "operator pressed stop");
        TaskRun run = hub.awaitFinished("t-cancel");
        run.assertWellFormed();
        TaskFinished f = run.finished();
        assertEquals(TaskFinished.Outcome.CANCELLED, f.getOutcome());
        assertEquals("cancelled by the hub: operator pressed stop", f.getDiagnostic());
        assertTrue(f.hasExitCode());
        awaitGone(pids);
    }

    @Test
    public void processesThatIgnoreSigtermAreKilledAfterTheGrace() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        // An ignored signal stays ignored in the children, so no process of this tree obeys SIGTERM.
        List<Long> pids = startTree(hub, "t-stubborn", "trap '' TERM; ", 0, 300);
        assertAllRunning(pids);
        hub.cancel("t-stubborn", "stop now");
        TaskFinished f = hub.awaitFinished("t-stubborn").finished();
        assertEquals(TaskFinished.Outcome.CANCELLED, f.getOutcome());
        assertTrue(f.getDiagnostic(), f.getDiagnostic().matches(
                "cancelled by the hub: stop now; 3 processes still running after the 300 ms grace were killed"));
        assertEquals("sh ended by SIGKILL", 128 + 9, f.getExitCode());
        awaitGone(pids);
    }

    @Test
    public void processesATaskLeavesRunningAreEndedBeforeItsResult() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        // The script exits at once; its child is re-parented, out of reach of parent links.
        hub.assign("t-orphan", shell("sleep 300 & echo $!").build());
        TaskRun run = hub.awaitFinished("t-orphan");
        run.assertWellFormed();
        TaskFinished f = run.finished();
        assertEquals(run.toString(), TaskFinished.Outcome.SUCCEEDED, f.getOutcome());
        assertEquals(0, f.getExitCode());
        assertEquals("1 process it left running was ended", f.getDiagnostic());
        assertEquals(1, run.printedPids().size());
        awaitGone(run.printedPids());
    }

    @Test
    public void aTaskThatLeavesNothingBehindReportsNoDiagnostic() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        hub.assign("t-clean", shell("sleep 0 & wait; echo done").build());
        TaskRun run = hub.awaitFinished("t-clean");
        assertEquals(TaskFinished.Outcome.SUCCEEDED, run.finished().getOutcome());
        assertEquals("", run.finished().getDiagnostic());
        assertEquals("done\n", run.stdout());
    }

    @Test
    public void losingTheSessionEndsRunningTasks() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        List<Long> first = startTree(hub, "t-lost-1", "", 0, 2_000);
        List<Long> second = startTree(hub, "t-lost-2", "trap '' TERM; ", 0, 300);
        assertAllRunning(first);
        assertAllRunning(second);

        harness.hub.stop(); // the hub crashes: no result can be reported any more
        awaitGone(first);
        awaitGone(second);
        Await.until("the loss is logged", () -> harness.logged("ending 2 running tasks whose results can no longer"
                + " be reported"));
    }

    @Test
    public void stoppingTheAgentEndsRunningTasksBeforeItReturns() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        List<Long> pids = startTree(hub, "t-shutdown", "trap '' TERM; ", 0, 60_000);
        assertAllRunning(pids);
        harness.agent.close();
        // close() waited for SIGTERM, the (capped) grace and SIGKILL; only reaping may lag behind.
        awaitGone(pids);
        assertTrue(harness.logText(), harness.logged("node agent stopping: ending 1 running task"));
    }
}
