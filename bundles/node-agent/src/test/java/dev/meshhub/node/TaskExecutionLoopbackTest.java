package dev.meshhub.node;

import static dev.meshhub.node.TaskHarness.argv;
import static dev.meshhub.node.TaskHarness.permissive;
import static dev.meshhub.node.TaskHarness.shell;
import static dev.meshhub.node.TaskHarness.strict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.TaskAssignment;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.Rule;
import org.junit.Test;

/** Running tasks: start, output, exit, failures to start, limits, and flow control to a slow hub. */
public class TaskExecutionLoopbackTest {

    @Rule
    public final TaskHarness harness = new TaskHarness();

    @Test
    public void allowedArgvRunsAndItsOutputArrivesInOrderWithSequences() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "seq"));
        hub.assign("t-seq", argv("seq", "1", "30000").build());
        TaskRun run = hub.awaitFinished("t-seq");
        run.assertWellFormed();
        assertTrue(run.started().getPid() > 0);
        String expected = IntStream.rangeClosed(1, 30000).mapToObj(Integer::toString)
                .collect(Collectors.joining("\n", "", "\n"));
        assertEquals(expected, run.stdout());
        assertTrue("several chunks: " + run, run.outputs().size() > 1);
        TaskFinished f = run.finished();
        assertEquals(TaskFinished.Outcome.SUCCEEDED, f.getOutcome());
        assertTrue(f.hasExitCode());
        assertEquals(0, f.getExitCode());
        assertEquals("", f.getDiagnostic());
    }

    @Test
    public void stdoutAndStderrBothArriveAndANonZeroExitFails() throws Exception {
        FakeHub.NodeStream hub = harness.connect(permissive(1));
        hub.assign("t-both", shell("echo out; echo err >&2; echo more; exit 3").build());
        TaskRun run = hub.awaitFinished("t-both");
        run.assertWellFormed();
        assertEquals("out\nmore\n", run.stdout());
        assertEquals("err\n", run.stderr());
        assertTrue(run.outputs().stream().anyMatch(o -> o.getStream() == TaskOutput.Stream.STDERR));
        TaskFinished f = run.finished();
        assertEquals(TaskFinished.Outcome.FAILED, f.getOutcome());
        assertEquals(3, f.getExitCode());
        assertEquals("'/bin/sh' exited with code 3", f.getDiagnostic());
    }

    @Test
    public void strictArgvWithNonZeroExitFailsWithItsCode() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "false"));
        hub.assign("t-false", argv("false").build());
        TaskRun run = hub.awaitFinished("t-false");
        run.assertWellFormed();
        assertEquals(TaskFinished.Outcome.FAILED, run.finished().getOutcome());
        assertEquals(1, run.finished().getExitCode());
    }

    @Test
    public void strictEnvironmentIsBuiltFromScratchPlusTheTasksAndStdinIsClosed() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "printenv", "cat").toBuilder().addAllowedEnvironment("MESHHUB_TEST_*").build());
        hub.assign("t-env", argv("printenv", "MESHHUB_TEST_VALUE", "PATH")
                .putEnvironment("MESHHUB_TEST_VALUE", "hello env").build());
        TaskRun env = hub.awaitFinished("t-env");
        assertEquals(env.toString(), TaskFinished.Outcome.SUCCEEDED, env.finished().getOutcome());
        // STRICT: the task's PATH is the trusted directories, never the agent's own.
        assertEquals("hello env\n" + String.join(":", StrictLaunch.DEFAULT_TRUSTED_DIRECTORIES) + "\n", env.stdout());

        // cat reads stdin until end of file: it ends at once only if stdin is closed (/dev/null).
        hub.assign("t-stdin", argv("cat").build());
        TaskRun cat = hub.awaitFinished("t-stdin");
        assertEquals(cat.toString(), TaskFinished.Outcome.SUCCEEDED, cat.finished().getOutcome());
        assertEquals("", cat.stdout());
    }

    @Test
    public void runsInTheRequestedDirectoryAndByDefaultInTheWorkspace() throws Exception {
        Files.createDirectories(harness.file("sub/dir"));
        FakeHub.NodeStream hub = harness.connect(strict(1, "pwd"));
        hub.assign("t-sub", argv("pwd").setWorkingDirectory("sub/dir").build());
        hub.assign("t-root", argv("pwd").build());
        assertEquals(harness.file("sub/dir").toRealPath() + "\n", hub.awaitFinished("t-sub").stdout());
        assertEquals(harness.workspace.toRealPath() + "\n", hub.awaitFinished("t-root").stdout());
    }

    @Test
    public void aProgramThatCannotStartFailsWithTheReason() throws Exception {
        Path notExecutable = harness.file("not-executable");
        Files.writeString(notExecutable, "#!/bin/sh\necho never\n");
        Files.setPosixFilePermissions(notExecutable, PosixFilePermissions.fromString("rw-------"));
        FakeHub.NodeStream hub = harness.connect(strict(1, "meshhub-no-such-program", notExecutable.toString()));
        hub.assign("t-missing", argv("meshhub-no-such-program").build());
        hub.assign("t-denied", argv(notExecutable.toString()).build());

        TaskRun missing = hub.awaitFinished("t-missing");
        assertEquals("nothing started: " + missing, 1, missing.messages.size());
        assertEquals("STRICT looks names up in the trusted directories only", TaskFinished.Outcome.REFUSED,
                missing.finished().getOutcome());
        assertFalse(missing.finished().hasExitCode());
        assertTrue(missing.finished().getDiagnostic(), missing.finished().getDiagnostic().contains(
                "'meshhub-no-such-program' is not an executable file in its trusted directories (/usr/local/bin, /usr/bin,"));
        assertTrue(missing.finished().getDiagnostic(), missing.finished().getDiagnostic().endsWith("(rule strict.resolution)"));

        TaskRun denied = hub.awaitFinished("t-denied");
        assertEquals(TaskFinished.Outcome.FAILED, denied.finished().getOutcome());
        assertEquals("cannot start '" + notExecutable + "': Permission denied", denied.finished().getDiagnostic());
    }

    @Test
    public void tasksBeyondTheLimitFailAsBusy() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "sleep", "true"), b -> b.maxTasks(1));
        hub.assign("t-long", argv("sleep", "300").build());
        hub.awaitTask("t-long", TaskRun::isStarted);
        hub.assign("t-extra", argv("true").build());
        TaskRun extra = hub.awaitFinished("t-extra");
        assertEquals(TaskFinished.Outcome.FAILED, extra.finished().getOutcome());
        assertEquals("node is busy: 1 tasks running", extra.finished().getDiagnostic());

        hub.cancel("t-long", "make room");
        assertEquals(TaskFinished.Outcome.CANCELLED, hub.awaitFinished("t-long").finished().getOutcome());
        hub.assign("t-now", argv("true").build());
        assertEquals(TaskFinished.Outcome.SUCCEEDED, hub.awaitFinished("t-now").finished().getOutcome());
    }

    @Test
    public void repeatedAssignmentsAndUnknownCancelsAreIgnored() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "sleep", "true"));
        hub.assign("t-once", argv("sleep", "300").build());
        hub.awaitTask("t-once", TaskRun::isStarted);
        hub.assign("t-once", argv("sleep", "300").build());
        hub.cancel("t-ghost", "no such task");
        hub.cancel("t-once", "done");
        // Messages are handled in order: anything caused by the repeat would come before this.
        TaskRun once = hub.awaitFinished("t-once");
        once.assertWellFormed();
        assertEquals(TaskFinished.Outcome.CANCELLED, once.finished().getOutcome());

        hub.assign("t-once", argv("true").build()); // finished ids are remembered too
        hub.assign("t-after", argv("true").build());
        hub.awaitFinished("t-after");
        assertEquals("no second result for a repeated id", 2, hub.awaitFinished("t-once").messages.size());
        assertFalse(hub.sawTask("t-ghost"));
        assertTrue(harness.logText(), harness.logged("ignoring a repeated assignment of task t-once"));
        assertTrue(harness.logText(), harness.logged("ignoring a cancel of task t-ghost"));
    }

    @Test
    public void anUnknownKindOfTaskFails() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1));
        hub.send(HubMessage.newBuilder().setTask(TaskAssignment.newBuilder().setTaskId("t-kind")).build());
        TaskFinished f = hub.awaitFinished("t-kind").finished();
        assertEquals(TaskFinished.Outcome.FAILED, f.getOutcome());
        assertTrue(f.getDiagnostic(), f.getDiagnostic().contains("cannot run this kind of task"));
    }

    /**
     * A task writing megabytes to a hub that does not read: the agent's queue fills to its bound
     * and the task waits on its pipe; once the hub reads, everything arrives, in order.
     */
    @Test
    public void aChattyTaskAndASlowHubKeepTheOutboundQueueWithinItsBound() throws Exception {
        long bound = 256 * 1024;
        int total = 6 * 1024 * 1024;
        harness.hub.manualInbound = true;
        harness.hub.settings = harness.hub.settings.toBuilder().setHeartbeatTimeoutMs(60_000).build();
        FakeHub.NodeStream hub = harness.connect(strict(1, "head"), b -> b.outputBufferBytes(bound));
        NodeAgent agent = harness.agent;

        hub.assign("t-chatty", argv("head", "--bytes=" + total, "/dev/zero").build());
        // The hub reads nothing yet: the transport's windows fill, then the agent's queue.
        Await.until("the outbound queue is full", () -> agent.outboundPeakBytes() >= bound - OutputPump.CHUNK_BYTES - 1024);

        hub.request(Integer.MAX_VALUE);
        TaskRun run = hub.awaitFinished("t-chatty");
        run.assertWellFormed();
        assertEquals(TaskFinished.Outcome.SUCCEEDED, run.finished().getOutcome());
        assertEquals(total, run.outputBytes());
        long peak = agent.outboundPeakBytes();
        assertTrue("queue peaked at " + peak + " bytes, over its bound of " + bound, peak <= bound + 1024);
    }
}
