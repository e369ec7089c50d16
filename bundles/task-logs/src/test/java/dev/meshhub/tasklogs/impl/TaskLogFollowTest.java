package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.chunks;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.describe;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.CompletableFuture;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput.Stream;

/** Following a running task: a reader sees what is appended later, and {@code grown} says when to look. */
public class TaskLogFollowTest {

    private static final String TASK = "t-feedfacecafebeef";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private static CompletableFuture<Void> grown(TaskLogs logs, long loggedBytes) {
        return logs.grown(TASK, loggedBytes).toCompletableFuture();
    }

    @Test
    public void aReaderFollowsALiveWriterAndGrownSaysWhenThereIsMore() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start(TASK);
        try (TaskLogReader reader = logs.read(TASK, 0)) {
            assertNull("nothing yet", reader.next());
            CompletableFuture<Void> first = grown(logs, 0);

            await(writer.append(Stream.STDOUT, bytes("one\n")));
            await(first);
            assertEquals("STDOUT@0:one\n", describe(chunks(reader)));
            assertTrue(reader.info().open());
            assertEquals(4, reader.info().loggedBytes());

            CompletableFuture<Void> second = grown(logs, 4);
            assertFalse("nothing new past byte 4", second.isDone());
            await(writer.append(Stream.STDERR, bytes("two\n")));
            await(second);
            assertEquals("STDERR@4:two\n", describe(chunks(reader)));

            CompletableFuture<Void> third = grown(logs, 8);
            assertFalse(third.isDone());
            TaskLogInfo finished = await(writer.finish("SUCCEEDED, exit code 0"));
            await(third);
            assertEquals("", describe(chunks(reader)));
            assertEquals(finished, reader.info());
            assertFalse(reader.info().open());
        }
    }

    @Test
    public void grownCompletesAtOnceWhenTheLogHoldsMoreOrHasNoWriter() throws Exception {
        TaskLogs logs = fixture.component();
        assertTrue("no log at all", grown(logs, 0).isDone());
        TaskLogWriter writer = logs.start(TASK);
        await(writer.append(Stream.STDOUT, bytes("12345")));
        assertTrue(grown(logs, 4).isDone());
        assertFalse(grown(logs, 5).isDone());
        await(writer.finish("done"));
        assertTrue("finished", grown(logs, 5).isDone());
        assertTrue("finished, past its end", grown(logs, 500).isDone());
    }

    @Test
    public void aReaderAheadOfTheWriterGetsTheBytesFromItsOffsetWhenTheyCome() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start(TASK);
        await(writer.append(Stream.STDOUT, bytes("abc")));
        try (TaskLogReader reader = logs.read(TASK, 5)) {
            assertNull(reader.next());
            await(writer.append(Stream.STDOUT, bytes("defgh")));
            assertEquals("STDOUT@5:fgh", describe(chunks(reader)));
            await(writer.append(Stream.STDERR, bytes("ij")));
            assertEquals("STDERR@8:ij", describe(chunks(reader)));
        }
        await(writer.finish("done"));
    }

    @Test
    public void aTruncatedLogWakesItsFollowersOnceThenTheyWaitForTheEnd() throws Exception {
        fixture.with("maxTaskLogBytes", 6L);
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start(TASK);
        await(writer.append(Stream.STDOUT, bytes("1234")));
        CompletableFuture<Void> waiting = grown(logs, 6);

        await(writer.append(Stream.STDOUT, bytes("5678")));
        await(waiting);
        TaskLogInfo truncated = logs.info(TASK).orElseThrow();
        assertTrue(truncated.truncated());
        assertTrue(truncated.open());
        assertEquals(6, truncated.loggedBytes());

        CompletableFuture<Void> untilTheEnd = grown(logs, 6);
        await(writer.append(Stream.STDOUT, bytes("9")));
        assertFalse("more output past the cap is not growth", untilTheEnd.isDone());
        await(writer.finish("SUCCEEDED, exit code 0"));
        await(untilTheEnd);
    }

    @Test
    public void manyFollowersOfOneLogAreAllWoken() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start(TASK);
        CompletableFuture<?>[] followers = new CompletableFuture<?>[50];
        for (int i = 0; i < followers.length; i++) {
            followers[i] = grown(logs, 0);
        }
        await(writer.append(Stream.STDOUT, bytes("x")));
        await(CompletableFuture.allOf(followers));
        await(writer.finish("done"));
    }
}
