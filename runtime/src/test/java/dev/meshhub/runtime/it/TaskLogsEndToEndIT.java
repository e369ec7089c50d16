package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.ListTasksRequest;

/**
 * The hub's task logs when their disk misbehaves, through a real hub and node: a full disk and a
 * read-only log directory truncate or lose the log (said by meshctl and the health check) while the
 * task and its caller carry on and nothing else on the hub fails. Retention: {@link TaskLogRetentionEndToEndIT}.
 */
public class TaskLogsEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;
    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest()
            .withHubEnvironment("MESHHUB_TASKLOGS_DISK_RESERVE_BYTES", String.valueOf(1024 * 1024));

    @Test
    public void aFullDiskTruncatesTheLogWhileTheTaskAndItsCallerCarryOn() throws Exception {
        runtime.permissiveNode("filler");
        Path logs = runtime.home.resolve("data/logs");
        // 2 MiB of disk under the logs, of which they leave 1 MiB alone: the disk is full for them after 1 MiB.
        mount(logs, "2m");
        try {
            RuntimeUnderTest.Result exec = runtime.shell("meshctl exec filler -- sh -c 'head -c 5000000 /dev/zero' | wc -c", 300);
            exec.assertExit(0);
            assertEquals("the caller got every byte", "5000000", exec.stdout().strip());
            String taskId = runtime.latestTask("filler").getTaskId();

            RuntimeUnderTest.Result output = runtime.meshctl("task", taskId, "--output");
            assertEquals(output.stderr(), 125, output.exit());
            assertTrue(output.stderr(), output.stderr().contains("of its 5000000 bytes of output"));
            assertTrue("what the log kept is printed (" + output.stdout().length() + " bytes)",
                    output.stdout().length() > 0 && output.stdout().length() < 5_000_000);

            RuntimeUnderTest.Result health = runtime.meshctl("health");
            assertEquals(health.stdout(), 3, health.exit());
            assertTrue(health.stdout(), health.stdout().contains("task-logs"));
            // Nothing else on the hub failed: it still runs tasks (whose logs cannot be written either).
            RuntimeUnderTest.Result echo = runtime.meshctl("exec", "filler", "--", "echo", "still here");
            echo.assertExit(0);
            assertEquals("still here\n", echo.stdout());
        } finally {
            unmount(logs);
        }
        // Space again: the next task's log is whole and the health check recovers.
        runtime.meshctl("exec", "filler", "--", "echo", "logged").assertExit(0);
        RuntimeUnderTest.Result output = runtime.meshctl("task", runtime.latestTask("filler").getTaskId(), "--output");
        output.assertExit(0);
        assertEquals("logged\n", output.stdout());
        Poll.until("the task-logs health check passing again", PATIENCE, () -> runtime.meshctlQuietly("health").contains("task-logs")
                && !runtime.meshctlQuietly("health").contains("task-logs: CRITICAL"));
    }

    @Test
    public void aReadOnlyLogDirectoryLosesLogsNotTasks() throws Exception {
        runtime.permissiveNode("ro");
        Path logs = runtime.home.resolve("data/logs");
        try (ReadOnlyDirectory readOnly = ReadOnlyDirectory.make(logs)) {
            RuntimeUnderTest.Result exec = runtime.meshctl("exec", "ro", "--", "echo", "hello");
            exec.assertExit(0);
            assertEquals("hello\n", exec.stdout());
            RuntimeUnderTest.Result health = runtime.meshctl("health");
            assertEquals(health.stdout(), 3, health.exit());
            assertTrue(health.stdout(), health.stdout().contains("task-logs"));
            RuntimeUnderTest.Result output = runtime.meshctl("task", runtime.latestTask("ro").getTaskId(), "--output");
            assertTrue(output.stderr(), output.exit() != 0);
        }
        runtime.meshctl("exec", "ro", "--", "echo", "again").assertExit(0);
        RuntimeUnderTest.Result output = runtime.meshctl("task", runtime.latestTask("ro").getTaskId(), "--output");
        output.assertExit(0);
        assertEquals("again\n", output.stdout());
    }

    private void mount(Path directory, String size) throws Exception {
        runtime.run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", directory.toString()), java.util.Map.of(), 30, null)
                .assertExit(0);
    }

    private void unmount(Path directory) throws Exception {
        runtime.run(List.of("umount", "-l", directory.toString()), java.util.Map.of(), 30, null).assertExit(0);
    }
}
