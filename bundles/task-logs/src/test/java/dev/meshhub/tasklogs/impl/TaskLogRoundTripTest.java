package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.chunks;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.describe;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogReader.Chunk;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput.Stream;

/** Writing a task's output and reading it back, whole or from an offset; the file as the format says. */
public class TaskLogRoundTripTest {

    private static final String TASK = "t-0123456789abcdef";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    /** hello (stdout) oops (stderr) world (stdout): 17 bytes. */
    private static TaskLogInfo writeInterleaved(TaskLogs logs) throws Exception {
        TaskLogWriter writer = logs.start(TASK);
        writer.append(Stream.STDOUT, bytes("hello "));
        writer.append(Stream.STDERR, bytes("oops\n"));
        await(writer.append(Stream.STDOUT, bytes("world\n")));
        return await(writer.finish("SUCCEEDED, exit code 0"));
    }

    private String read(long offset) throws Exception {
        try (TaskLogReader reader = fixture.component().read(TASK, offset)) {
            return describe(chunks(reader));
        }
    }

    @Test
    public void interleavedStreamsReadBackInOrderWithTheirOffsetsAndTheEnding() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogInfo finished = writeInterleaved(logs);

        assertEquals(TASK, finished.taskId());
        assertEquals(17, finished.outputBytes());
        assertEquals(17, finished.loggedBytes());
        assertFalse(finished.open());
        assertFalse(finished.truncated());
        assertEquals("", finished.truncation());
        assertEquals("SUCCEEDED, exit code 0", finished.ending());
        try (TaskLogReader reader = logs.read(TASK, 0)) {
            assertEquals("STDOUT@0:hello |STDERR@6:oops\n|STDOUT@11:world\n", describe(chunks(reader)));
            assertEquals(finished.ending(), reader.info().ending());
            assertFalse(reader.info().open());
        }
        TaskLogInfo fromFile = logs.info(TASK).orElseThrow();
        assertEquals(new TaskLogInfo(TASK, 17, 17, false, false, "", "SUCCEEDED, exit code 0", fromFile.modified()), fromFile);
    }

    @Test
    public void theFileIsLaidOutAsDocumented() throws Exception {
        writeInterleaved(fixture.component());

        byte[] expected = new TaskLogsFixture.LogBytes()
                .record(TaskLogFormat.STDOUT, bytes("hello "))
                .record(TaskLogFormat.STDERR, bytes("oops\n"))
                .record(TaskLogFormat.STDOUT, bytes("world\n"))
                .record(TaskLogFormat.END, bytes("ending=SUCCEEDED, exit code 0\noutputBytes=17\nloggedBytes=17\n"
                        + "truncated=false\ntruncation=\n"))
                .toByteArray();
        assertArrayEquals(expected, Files.readAllBytes(fixture.root.resolve("01").resolve(TASK + ".log")));
        assertEquals("MHLOG1\n", new String(expected, 0, 7, StandardCharsets.US_ASCII));
    }

    @Test
    public void readingFromAnOffsetCutsTheFirstChunkThere() throws Exception {
        writeInterleaved(fixture.component());

        assertEquals("STDERR@8:ps\n|STDOUT@11:world\n", read(8));
        assertEquals("STDERR@6:oops\n|STDOUT@11:world\n", read(6));
        assertEquals("STDOUT@1:ello |STDERR@6:oops\n|STDOUT@11:world\n", read(1));
        assertEquals("STDOUT@16:\n", read(16));
        assertEquals("", read(17));
        assertEquals("", read(1000));
    }

    @Test
    public void aTaskWithoutOutputHasALogWithItsEnding() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogInfo finished = await(logs.start("t-quiet").finish("FAILED, exit code 3"));

        assertEquals(0, finished.outputBytes());
        assertEquals("FAILED, exit code 3", logs.info("t-quiet").orElseThrow().ending());
        try (TaskLogReader reader = logs.read("t-quiet", 0)) {
            assertEquals(List.of(), chunks(reader));
        }
    }

    @Test
    public void finishingTwiceGivesTheFirstEndingAndLaterAppendsAreIgnored() throws Exception {
        TaskLogWriter writer = fixture.component().start(TASK);
        await(writer.append(Stream.STDOUT, bytes("once")));
        TaskLogInfo first = await(writer.finish("SUCCEEDED, exit code 0"));
        TaskLogInfo second = await(writer.finish("CANCELLED"));
        await(writer.append(Stream.STDOUT, bytes("late")));

        assertEquals(first, second);
        assertEquals(first, fixture.component().info(TASK).orElseThrow());
        assertEquals("STDOUT@0:once", read(0));
    }

    @Test
    public void anEndingIsKeptOnOneLine() throws Exception {
        TaskLogInfo finished = await(fixture.component().start(TASK).finish("LOST\nnode n1 disconnected\r\n(after 3 s)"));
        assertEquals("LOST node n1 disconnected (after 3 s)", finished.ending());
        assertEquals(finished.ending(), fixture.component().info(TASK).orElseThrow().ending());
    }

    @Test
    public void aChunkBiggerThanOneRecordIsSplitAndReadBackWhole() throws Exception {
        byte[] big = new byte[TaskLogFormat.MAX_PAYLOAD * 2 + 12345];
        new Random(7).nextBytes(big);
        TaskLogWriter writer = fixture.component().start(TASK);
        await(writer.append(Stream.STDERR, big));
        await(writer.finish("SUCCEEDED, exit code 0"));

        ByteArrayOutputStream back = new ByteArrayOutputStream();
        try (TaskLogReader reader = fixture.component().read(TASK, 0)) {
            List<Chunk> chunks = chunks(reader);
            assertEquals(3, chunks.size());
            for (Chunk chunk : chunks) {
                assertEquals(Stream.STDERR, chunk.stream());
                assertEquals(back.size(), chunk.offset());
                assertTrue("no record read is bigger than the cap", chunk.data().length <= TaskLogFormat.MAX_PAYLOAD);
                back.writeBytes(chunk.data());
            }
        }
        assertArrayEquals(big, back.toByteArray());
    }

    @Test
    public void aLogIsStartedOnceUntilItIsFinishedAndAStartAgainReplacesIt() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter first = logs.start(TASK);
        await(first.append(Stream.STDOUT, bytes("first run")));
        try {
            logs.start(TASK);
            fail("started twice");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("is being written already"));
        }
        first.finish("LOST, the hub restarted");
        // Right after finish, not waiting for it: the new log starts once the old one is closed.
        TaskLogWriter second = logs.start(TASK);
        await(second.append(Stream.STDOUT, bytes("second run")));
        await(second.finish("SUCCEEDED, exit code 0"));

        assertEquals("STDOUT@0:second run", read(0));
        assertEquals("SUCCEEDED, exit code 0", logs.info(TASK).orElseThrow().ending());
    }

    @Test
    public void emptyAndNullAppendsAreTakenAndIgnored() throws Exception {
        TaskLogWriter writer = fixture.component().start(TASK);
        await(writer.append(Stream.STDOUT, bytes("abc")));
        await(writer.append(Stream.STDOUT, new byte[0]));
        await(writer.append(Stream.STDOUT, null));
        await(writer.append(null, bytes("x")));
        TaskLogInfo finished = await(writer.finish(null));
        assertEquals(3, finished.outputBytes());
        assertEquals("(no ending given)", finished.ending());
        assertEquals("STDOUT@0:abc", read(0));
    }
}
