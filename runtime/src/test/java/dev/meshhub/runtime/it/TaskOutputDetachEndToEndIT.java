package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;

/**
 * A caller that stops reading a task's output, against a real hub whose stall limit is 3 s: the hub
 * detaches it with a status saying where the output is, meshctl exits 125, and the task runs on, or is
 * cancelled when the caller asked (--cancel-on-detach).
 */
public class TaskOutputDetachEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;
    /** The hub's stall limit in this test: short, so a detach is seen quickly. */
    private static final int STALL_SECONDS = 3;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest()
            .withHubEnvironment("MESHHUB_TRANSPORT_OUTPUT_STALL_SECONDS", String.valueOf(STALL_SECONDS));

    @Test
    public void aCallerThatStopsReadingIsDetachedAndTheTaskRunsOn() throws Exception {
        runtime.permissiveNode("stalled");
        Process caller = runtime.meshctlPiped("stalled-exec", "exec", "stalled", "--", "sh", "-c",
                "head -c 20000000 /dev/zero; echo done >&2");
        TaskInfo task = runtime.runningTask("stalled");
        // The caller reads nothing: after the stall limit the hub lets go of it, and the task finishes without it.
        Poll.until("the task ended without its caller", PATIENCE, () -> runtime.taskState(task.getTaskId()) == TaskState.SUCCEEDED);
        long read = caller.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertTrue(caller.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        String err = runtime.log("stalled-exec.err");
        assertEquals(err, 125, caller.exitValue());
        assertTrue(err, err.contains("this exec call was detached: it took none of the output for " + STALL_SECONDS + " s"));
        assertTrue(err, err.contains("meshctl task " + task.getTaskId() + " --output"));
        assertTrue("it got part of the output (" + read + " bytes)", read > 0 && read < 20_000_000);
    }

    @Test
    public void withCancelOnDetachAStalledCallerCancelsItsTask() throws Exception {
        runtime.permissiveNode("strict-caller");
        Process caller = runtime.meshctlPiped("cancel-exec", "exec", "--cancel-on-detach", "strict-caller", "--",
                "sh", "-c", "head -c 20000000 /dev/zero");
        TaskInfo task = runtime.runningTask("strict-caller");
        Poll.until("the task cancelled when its caller was detached", PATIENCE,
                () -> runtime.taskState(task.getTaskId()) == TaskState.CANCELLED);
        assertTrue(runtime.task(task.getTaskId()).getDiagnostic(), runtime.task(task.getTaskId()).getDiagnostic().contains("cancel on detach"));
        caller.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertTrue(caller.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(runtime.log("cancel-exec.err"), 125, caller.exitValue());
    }
}
