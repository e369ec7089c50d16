package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.ArgvCommand;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.TaskState;

/** Many small tasks against a real hub whose task logs may hold 200 KB: retention keeps the directory within it. */
public class TaskLogRetentionEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;
    /** All logs together: small, so many small tasks go past it. */
    private static final long MAX_TOTAL_BYTES = 200_000;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest()
            .withHubEnvironment("MESHHUB_TASKLOGS_MAX_TOTAL_BYTES", String.valueOf(MAX_TOTAL_BYTES))
            .withHubEnvironment("MESHHUB_TASKLOGS_MESHHUB__MANAGEMENT__PERIOD", "1")
            .withHubEnvironment("MESHHUB_TASKLOGS_MESHHUB__MANAGEMENT__UNIT", "SECONDS");

    @Test
    public void retentionKeepsTheLogsWithinTheirCapHoweverManyTasksRun() throws Exception {
        runtime.enrolledNode("busy");
        runtime.meshctl("policy", "set", "busy", "permissive", "--yes").assertExit(0);
        int tasks = 400;
        for (int i = 0; i < tasks; i++) {
            Iterator<ExecEvent> events = runtime.admin().exec(ExecRequest.newBuilder().setNode("busy")
                    .setCommand(CommandTask.newBuilder().setArgv(ArgvCommand.newBuilder().addAllArgs(List.of("head", "-c", "2000",
                            "/dev/zero")))).build());
            events.forEachRemaining(e -> { });
        }
        assertEquals(TaskState.SUCCEEDED, runtime.admin().listTasks(ListTasksRequest.newBuilder().setNode("busy").setLimit(1).build())
                .getTasks(0).getState());
        Path logs = runtime.home.resolve("data/logs");
        // 400 x 2 KB = 800 KB written; the retention task (every second here) keeps them under 200 KB.
        Poll.until("the logs back within their cap", PATIENCE, () -> size(logs) <= MAX_TOTAL_BYTES);
        long[] files = {-1};
        // Retention may remove a directory while it is walked: count again until a walk sees a settled tree.
        Poll.until("a count of the logs", PATIENCE, () -> (files[0] = count(logs)) >= 0);
        assertTrue("files kept: " + files[0], files[0] > 0 && files[0] < tasks / 2);
    }

    private static long size(Path logs) {
        try (Stream<Path> files = Files.walk(logs)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return Long.MAX_VALUE;
        }
    }

    /** The log files under {@code logs}, or -1 when retention removed something while it was walked. */
    private static long count(Path logs) {
        try (Stream<Path> files = Files.walk(logs)) {
            return files.filter(p -> p.toString().endsWith(".log")).count();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }
}
