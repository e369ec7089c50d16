package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;

import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

/** How a task's final record becomes meshctl exec's exit code (and the line on stderr). */
public class ExecExitCodeTest {

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int exit(TaskState state, Integer exitCode, String diagnostic) {
        TaskInfo.Builder t = TaskInfo.newBuilder().setTaskId("t-7").setState(state).setDiagnostic(diagnostic);
        if (exitCode != null) {
            t.setExitCode(exitCode);
        }
        err.reset();
        return ExecCommand.exitCode(t.build(), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void ranAndExitedMeansTheRemoteCodeSilently() {
        assertEquals(0, exit(TaskState.SUCCEEDED, 0, ""));
        assertEquals(0, exit(TaskState.SUCCEEDED, null, ""));
        assertEquals(255, exit(TaskState.FAILED, 255, "exited with 255"));
        assertEquals(42, exit(TaskState.FAILED, 42, ""));
        assertEquals("", err());
    }

    @Test
    public void cancelledAndTimedOutWinOverAnExitCode() {
        assertEquals(130, exit(TaskState.CANCELLED, 143, ""));
        assertEquals("meshctl: task t-7 was cancelled\n", err());
        assertEquals(124, exit(TaskState.TIMED_OUT, 137, "killed after 5000 ms"));
        assertEquals("meshctl: task t-7 timed out: killed after 5000 ms\n", err());
    }

    @Test
    public void failuresWithoutAUsableExitCodeAre1WithOneLine() {
        assertEquals(1, exit(TaskState.FAILED, null, "refused by the node's policy:\n  'rm' not allowed\n"));
        assertEquals("meshctl: refused by the node's policy:; 'rm' not allowed\n", err());
        assertEquals(1, exit(TaskState.FAILED, null, ""));
        assertEquals("meshctl: task t-7 failed (see 'meshctl task t-7')\n", err());
        assertEquals(1, exit(TaskState.FAILED, 0, "odd"));
        assertEquals("meshctl: odd\n", err());
        assertEquals(1, exit(TaskState.FAILED, -1073741819, ""));
        assertEquals("meshctl: task t-7 exited with -1073741819 (outside 0..255)\n", err());
        assertEquals(1, exit(TaskState.RUNNING, null, ""));
        assertEquals("meshctl: the hub reported task t-7 as running when it ended; see 'meshctl task t-7'\n", err());
    }
}
