package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.felix.hc.api.Result;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput.Stream;
import dev.meshhub.testing.ReadOnly;

/** A directory that cannot be written: the log is marked truncated, the health check fails, and both recover. */
public class TaskLogWriteFailureTest {

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private Result health() throws Exception {
        TaskLogsHealthCheck check = new TaskLogsHealthCheck();
        check.state = fixture.component();
        return check.execute();
    }

    @Test
    public void aReadOnlyDirectoryTruncatesTheLogAndFailsTheHealthCheckUntilAWriteSucceeds() throws Exception {
        TaskLogs logs = fixture.component();
        assertEquals(health().toString(), Result.Status.OK, health().getStatus());
        Path shard = Files.createDirectories(fixture.root.resolve("ro"));
        ReadOnly.make(shard);
        try {
            TaskLogWriter writer = logs.start("t-ro01");
            await(writer.append(Stream.STDOUT, bytes("lost")));
            await(writer.append(Stream.STDOUT, bytes("lost too")));

            TaskLogInfo info = logs.info("t-ro01").orElseThrow();
            assertEquals(12, info.outputBytes());
            assertEquals(0, info.loggedBytes());
            assertTrue(info.truncated());
            assertTrue(info.truncation(), info.truncation().startsWith("log truncated: cannot write "
                    + fixture.logFile("t-ro01") + ": "));
            assertTrue(info.truncation(), info.truncation().endsWith(" at output byte 0"));
            Result failing = health();
            assertEquals(failing.toString(), Result.Status.CRITICAL, failing.getStatus());
            assertTrue(failing.toString(), failing.toString().contains("task logs cannot be written: "
                    + fixture.logFile("t-ro01")));
            assertTrue(failing.toString(), failing.toString().contains("(directory " + fixture.root + ")"));
            try (TaskLogReader reader = logs.read("t-ro01", 0)) {
                assertNull(reader.next());
                assertEquals(info, reader.info());
            }

            TaskLogInfo finished = await(writer.finish("SUCCEEDED, exit code 0"));
            assertFalse(finished.open());
            assertEquals(info.truncation(), finished.truncation());
            assertFalse("nothing on disk", logs.info("t-ro01").isPresent());
            assertEquals("still failing: nothing was written since", Result.Status.CRITICAL, health().getStatus());
        } finally {
            ReadOnly.undo(shard);
        }

        TaskLogWriter next = logs.start("t-ro02");
        await(next.append(Stream.STDOUT, bytes("written")));
        assertEquals(health().toString(), Result.Status.OK, health().getStatus());
        assertEquals(7, await(next.finish("done")).loggedBytes());
    }

    @Test
    public void aLogThatFailsMidWayStopsThereAndStillGetsItsEndOnceTheDiskAllows() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start("t-midway");
        await(writer.append(Stream.STDOUT, bytes("kept ")));
        Path file = fixture.logFile("t-midway");
        ReadOnly.make(file); // an immutable file refuses writes through the open descriptor too
        try {
            await(writer.append(Stream.STDERR, bytes("refused")));
            await(writer.append(Stream.STDOUT, bytes("not tried")));
            TaskLogInfo failed = logs.info("t-midway").orElseThrow();
            assertEquals(21, failed.outputBytes());
            assertEquals(5, failed.loggedBytes());
            assertTrue(failed.truncation(), failed.truncation().startsWith("log truncated: cannot write " + file + ": "));
            assertEquals(Result.Status.CRITICAL, health().getStatus());
        } finally {
            ReadOnly.undo(file);
        }

        TaskLogInfo finished = await(writer.finish("SUCCEEDED, exit code 0"));
        assertEquals("an end record alone proves little (it fits where a cut-back record was)", Result.Status.CRITICAL,
                health().getStatus());
        assertEquals(finished, logs.info("t-midway").orElseThrow());
        assertTrue(finished.truncated());
        assertEquals(5, finished.loggedBytes());
        try (TaskLogReader reader = logs.read("t-midway", 0)) {
            assertEquals("STDOUT@0:kept ", TaskLogsFixture.describe(TaskLogsFixture.chunks(reader)));
        }
        TaskLogWriter next = logs.start("t-after");
        await(next.append(Stream.STDOUT, bytes("output again")));
        assertEquals("output written again: the health check recovers", Result.Status.OK, health().getStatus());
        await(next.finish("SUCCEEDED"));
    }

    @Test
    public void aDirectoryWhereNoFileCanBeMadeIsCritical() throws Exception {
        fixture.component();
        ReadOnly.make(fixture.root);
        try {
            Result result = health();
            assertEquals(result.toString(), Result.Status.CRITICAL, result.getStatus());
            assertTrue(result.toString(), result.toString().contains("cannot create a file in " + fixture.root));
        } finally {
            ReadOnly.undo(fixture.root);
        }
        assertEquals(Result.Status.OK, health().getStatus());
        try (var files = Files.list(fixture.root)) {
            assertEquals("the probe leaves nothing behind", 0, files.count());
        }
    }

    @Test
    public void withoutTheComponentTheCheckIsCritical() {
        Result result = new TaskLogsHealthCheck().execute();
        assertEquals(Result.Status.CRITICAL, result.getStatus());
        assertTrue(result.toString(), result.toString().contains("component dev.meshhub.tasklogs is not active"));
    }

    @Test
    public void theDiskReserveAndTheTotalCapShowInTheCheck() throws Exception {
        Path directory = fixture.root;
        Files.createDirectories(directory);
        Result below = TaskLogsHealthCheck.check(new TaskLogsState.Status(directory, null, 0, 100, Long.MAX_VALUE / 4, 0));
        assertEquals(Result.Status.CRITICAL, below.getStatus());
        assertTrue(below.toString(), below.toString().contains("task logs are truncated until space is freed"));
        Result full = TaskLogsHealthCheck.check(new TaskLogsState.Status(directory, null, 100, 100, 0, 3));
        assertEquals(Result.Status.WARN, full.getStatus());
        assertTrue(full.toString(), full.toString().contains("3 log(s) open; 100 bytes of maxTotalBytes 100 bytes in use"));
    }
}
