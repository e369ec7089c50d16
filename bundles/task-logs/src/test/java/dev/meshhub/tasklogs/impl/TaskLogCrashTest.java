package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.chunks;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.describe;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput.Stream;

/** Logs a crash left behind: no end record, a record cut short, damage; none of it stops a reader. */
public class TaskLogCrashTest {

    private static final String TASK = "t-c0ffee";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private String read(TaskLogs logs, long offset) throws Exception {
        try (TaskLogReader reader = logs.read(TASK, offset)) {
            return describe(chunks(reader));
        }
    }

    @Test
    public void aLogWhoseWriterNeverFinishedIsReadAsNotOpenWithNoEnding() throws Exception {
        TaskLogWriter abandoned = fixture.component().start(TASK);
        abandoned.append(Stream.STDOUT, bytes("before "));
        await(abandoned.append(Stream.STDERR, bytes("the crash")));

        TaskLogs restarted = fixture.another(); // the first component is never told: as after a crash
        TaskLogInfo info = restarted.info(TASK).orElseThrow();
        assertEquals(new TaskLogInfo(TASK, 16, 16, false, false, "", "", info.modified()), info);
        assertEquals("STDOUT@0:before |STDERR@7:the crash", read(restarted, 0));
        assertEquals("STDERR@9:e crash", read(restarted, 9));
        assertTrue("no writer here", restarted.grown(TASK, 16).toCompletableFuture().isDone());
    }

    @Test
    public void aRecordCutShortByACrashIsIgnored() throws Exception {
        new TaskLogsFixture.LogBytes()
                .record(TaskLogFormat.STDOUT, bytes("whole"))
                .header(TaskLogFormat.STDERR, 100).raw(bytes("only part of it"))
                .writeTo(fixture.logFile(TASK));
        TaskLogs logs = fixture.component();

        assertEquals("STDOUT@0:whole", read(logs, 0));
        assertEquals(new TaskLogInfo(TASK, 5, 5, false, false, "", "", Files.getLastModifiedTime(fixture.logFile(TASK))
                .toInstant()), logs.info(TASK).orElseThrow());
    }

    @Test
    public void aHeaderCutShortIsIgnoredToo() throws Exception {
        new TaskLogsFixture.LogBytes().record(TaskLogFormat.STDOUT, bytes("whole")).raw(new byte[] {1, 0, 0})
                .writeTo(fixture.logFile(TASK));
        assertEquals("STDOUT@0:whole", read(fixture.component(), 0));
        assertEquals(5, fixture.component().info(TASK).orElseThrow().loggedBytes());
    }

    @Test
    public void damageStopsTheReaderAndMarksTheLogTruncated() throws Exception {
        new TaskLogsFixture.LogBytes()
                .record(TaskLogFormat.STDOUT, bytes("good"))
                .header(TaskLogFormat.STDOUT, TaskLogFormat.MAX_PAYLOAD + 1).raw(new byte[64])
                .writeTo(fixture.logFile(TASK));
        TaskLogs logs = fixture.component();

        try (TaskLogReader reader = logs.read(TASK, 0)) {
            assertEquals("STDOUT@0:good", describe(chunks(reader)));
            TaskLogInfo info = reader.info();
            assertTrue(info.truncated());
            assertEquals("log unreadable after output byte 4: file byte 16 holds no valid record (type 1, length 1048577)",
                    info.truncation());
        }
        assertEquals(4, logs.info(TASK).orElseThrow().loggedBytes());
    }

    @Test
    public void aZeroFilledTailIsDamageNotOutput() throws Exception {
        new TaskLogsFixture.LogBytes().record(TaskLogFormat.STDERR, bytes("kept")).raw(new byte[4096])
                .writeTo(fixture.logFile(TASK));
        assertEquals("STDERR@0:kept", read(fixture.component(), 0));
        assertTrue(fixture.component().info(TASK).orElseThrow().truncated());
    }

    @Test
    public void aFileThatIsNoTaskLogIsAnError() throws Exception {
        Files.createDirectories(fixture.logFile(TASK).getParent());
        Files.writeString(fixture.logFile(TASK), "#!/bin/sh\necho hello\n");
        TaskLogs logs = fixture.component();
        try {
            logs.info(TASK);
            fail("read a file that is not a log");
        } catch (IOException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().endsWith("is not a task log: it does not start with MHLOG1"));
        }
        try (TaskLogReader reader = logs.read(TASK, 0)) {
            reader.next();
            fail("read a file that is not a log");
        } catch (IOException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("is not a task log"));
        }
    }

    @Test
    public void aTaskStartedAgainAfterACrashReplacesItsOldLog() throws Exception {
        new TaskLogsFixture.LogBytes().record(TaskLogFormat.STDOUT, bytes("old run, never ended"))
                .writeTo(fixture.logFile(TASK));
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start(TASK);
        await(writer.append(Stream.STDOUT, bytes("new run")));
        await(writer.finish("SUCCEEDED, exit code 0"));
        assertEquals("STDOUT@0:new run", read(logs, 0));
        assertFalse(logs.info(TASK).orElseThrow().truncated());
    }

    @Test
    public void aLogWithoutAnEndRecordButANoteStillSaysItWasTruncated() throws Exception {
        new TaskLogsFixture.LogBytes()
                .record(TaskLogFormat.STDOUT, bytes("12"))
                .record(TaskLogFormat.NOTE, bytes("log truncated: the per-task cap of 2 bytes (maxTaskLogBytes) was reached"
                        + " at output byte 2"))
                .writeTo(fixture.logFile(TASK));
        TaskLogInfo info = fixture.component().info(TASK).orElseThrow();
        assertTrue(info.truncated());
        assertTrue(info.truncation(), info.truncation().contains("per-task cap of 2 bytes"));
        assertEquals("", info.ending());
    }
}
