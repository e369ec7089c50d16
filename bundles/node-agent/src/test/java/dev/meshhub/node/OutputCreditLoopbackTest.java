package dev.meshhub.node;

import static dev.meshhub.node.TaskHarness.argv;
import static dev.meshhub.node.TaskHarness.strict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.OutputCredit;
import dev.meshhub.proto.v1.TaskAssignment;
import dev.meshhub.proto.v1.TaskFinished;
import org.junit.Rule;
import org.junit.Test;

/** Output credit: a task sends no more output than the hub granted, waits for more, and never holds up another task. */
public class OutputCreditLoopbackTest {

    private static final int WINDOW = 64 * 1024;
    private static final int TOTAL = 1024 * 1024;

    @Rule
    public final TaskHarness harness = new TaskHarness();

    @Test
    public void aTaskSendsOnlyWhatItWasGrantedAndEverythingOnceGrantedMore() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "head", "seq"));
        assignWithWindow(hub, "t-big", argv("head", "--bytes=" + TOTAL, "/dev/zero").build(), WINDOW);
        TaskRun firstWindow = hub.awaitTask("t-big", run -> run.outputBytes() >= WINDOW);
        assertEquals("exactly the window, then it waits", WINDOW, firstWindow.outputBytes());

        // Another task on the same stream runs to its end while the first waits for credit.
        assignWithWindow(hub, "t-other", argv("seq", "1", "20000").build(), TOTAL);
        TaskRun other = hub.awaitFinished("t-other");
        assertEquals(TaskFinished.Outcome.SUCCEEDED, other.finished().getOutcome());
        assertTrue("the other task's output was not held back (" + other.outputBytes() + " bytes)", other.outputBytes() > WINDOW);
        TaskRun stillWaiting = hub.awaitTask("t-big", run -> true);
        assertEquals("the first task sent nothing more without credit", WINDOW, stillWaiting.outputBytes());

        // Credit in quarter windows: each time at most what was granted arrives.
        long granted = WINDOW;
        while (granted < TOTAL) {
            long grant = WINDOW / 4;
            granted += grant;
            hub.send(HubMessage.newBuilder().setOutputCredit(OutputCredit.newBuilder().setTaskId("t-big").setBytes(grant)).build());
            long expected = granted;
            TaskRun run = hub.awaitTask("t-big", r -> r.outputBytes() >= expected);
            assertEquals(expected, run.outputBytes());
        }
        TaskRun done = hub.awaitFinished("t-big");
        done.assertWellFormed();
        assertEquals(TaskFinished.Outcome.SUCCEEDED, done.finished().getOutcome());
        assertEquals(TOTAL, done.outputBytes());
    }

    @Test
    public void aTaskWaitingForCreditIsCancelledPromptlyAndSaysWhatItDropped() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "head"));
        assignWithWindow(hub, "t-stuck", argv("head", "--bytes=" + TOTAL, "/dev/zero").build(), WINDOW);
        hub.awaitTask("t-stuck", run -> run.outputBytes() >= WINDOW);
        hub.cancel("t-stuck", "enough");
        TaskRun run = hub.awaitFinished("t-stuck");
        run.assertWellFormed();
        assertEquals(TaskFinished.Outcome.CANCELLED, run.finished().getOutcome());
        assertEquals("nothing past the credit was sent", WINDOW, run.outputBytes());
    }

    @Test
    public void withoutAWindowOutputFlowsAsFromAnOlderHub() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "head"));
        hub.assign("t-free", argv("head", "--bytes=" + TOTAL, "/dev/zero").build());
        TaskRun run = hub.awaitFinished("t-free");
        assertEquals(TaskFinished.Outcome.SUCCEEDED, run.finished().getOutcome());
        assertEquals(TOTAL, run.outputBytes());
    }

    private static void assignWithWindow(FakeHub.NodeStream hub, String taskId, dev.meshhub.proto.v1.CommandTask command, long window) {
        hub.send(HubMessage.newBuilder().setTask(TaskAssignment.newBuilder().setTaskId(taskId).setCommand(command)
                .setOutputWindowBytes(window)).build());
    }
}
