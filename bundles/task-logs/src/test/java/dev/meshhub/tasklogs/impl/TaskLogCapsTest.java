package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.chunks;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.describe;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput.Stream;

/** The per-task cap, the total cap and the disk reserve: the log stops, says why and where, stages still complete. */
public class TaskLogCapsTest {

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private static int occurrences(String text, String part) {
        return text.split(Pattern.quote(part), -1).length - 1;
    }

    private String read(String taskId) throws Exception {
        try (TaskLogReader reader = fixture.component().read(taskId, 0)) {
            return describe(chunks(reader));
        }
    }

    @Test
    public void thePerTaskCapKeepsTheFirstBytesAndSaysWhereTheLogStopped() throws Exception {
        fixture.with("maxTaskLogBytes", 10L);
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start("t-capped");
        await(writer.append(Stream.STDOUT, bytes("123456")));
        await(writer.append(Stream.STDERR, bytes("abcdef")));
        await(writer.append(Stream.STDOUT, bytes("never logged")));

        TaskLogInfo running = logs.info("t-capped").orElseThrow();
        assertEquals(24, running.outputBytes());
        assertEquals(10, running.loggedBytes());
        assertTrue(running.truncated());
        assertTrue(running.open());
        assertEquals("log truncated: the per-task cap of 10 bytes (maxTaskLogBytes) was reached at output byte 10",
                running.truncation());

        TaskLogInfo finished = await(writer.finish("SUCCEEDED, exit code 0"));
        assertEquals(24, finished.outputBytes());
        assertEquals(10, finished.loggedBytes());
        assertTrue(finished.truncated());
        assertEquals(running.truncation(), finished.truncation());
        assertEquals("STDOUT@0:123456|STDERR@6:abcd", read("t-capped"));
        TaskLogInfo fromFile = TaskLogScan.scan("t-capped", fixture.logFile("t-capped"));
        assertEquals(finished, fromFile);
        String file = new String(Files.readAllBytes(fixture.logFile("t-capped")), StandardCharsets.UTF_8);
        assertEquals("one note, once", 2, occurrences(file, "per-task cap of 10 bytes"));
        assertTrue(file, file.contains("outputBytes=24\nloggedBytes=10\ntruncated=true\n"));
    }

    @Test
    public void theTotalCapDropsNewOutputUntilRetentionFreesSpace() throws Exception {
        fixture.with("maxTotalBytes", 1000L);
        TaskLogs logs = fixture.component();
        TaskLogWriter first = logs.start("t-first");
        await(first.append(Stream.STDOUT, new byte[600]));
        await(first.finish("SUCCEEDED, exit code 0"));
        Files.setLastModifiedTime(fixture.logFile("t-first"), FileTime.from(Instant.now().minus(Duration.ofHours(1))));

        TaskLogWriter second = logs.start("t-second");
        await(second.append(Stream.STDOUT, new byte[400]));
        TaskLogInfo full = await(second.finish("SUCCEEDED, exit code 0"));
        assertEquals(400, full.outputBytes());
        assertEquals(0, full.loggedBytes());
        assertTrue(full.truncated());
        assertTrue(full.truncation(), full.truncation().startsWith("log truncated: the hub's task-log space is full ("));
        assertTrue(full.truncation(), full.truncation().endsWith("maxTotalBytes 1000) at output byte 0; the"
                + " task-log-retention task frees space"));

        // Over 80% of the cap: retention removes the oldest finished logs until under it.
        TaskLogRetention.Report report = fixture.component().current().retention();
        assertEquals(1, report.removedBySize());
        assertFalse(logs.info("t-first").isPresent());
        assertTrue(logs.info("t-second").isPresent());
        TaskLogWriter third = logs.start("t-third");
        await(third.append(Stream.STDOUT, bytes("fits again")));
        assertEquals(10, await(third.finish("done")).loggedBytes());
    }

    @Test
    public void belowTheDiskReserveLogsStop() throws Exception {
        fixture.with("diskReserveBytes", Long.MAX_VALUE / 4);
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start("t-reserve");
        await(writer.append(Stream.STDOUT, bytes("not kept")));
        TaskLogInfo info = await(writer.finish("SUCCEEDED, exit code 0"));
        assertEquals(8, info.outputBytes());
        assertEquals(0, info.loggedBytes());
        assertTrue(info.truncation(), info.truncation().startsWith("log truncated: less than diskReserveBytes ("
                + Long.MAX_VALUE / 4 + " bytes) is usable on the disk of " + fixture.root));
        assertEquals("the note and the end are small and still written", info, logs.info("t-reserve").orElseThrow());
    }

    @Test
    public void newCapsApplyAtOnceToOpenLogsAndATruncatedLogStaysTruncated() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start("t-reconfigured");
        await(writer.append(Stream.STDOUT, bytes("12345")));
        fixture.with("maxTaskLogBytes", 8L).reconfigure();
        await(writer.append(Stream.STDOUT, bytes("67890")));
        assertEquals(8, logs.info("t-reconfigured").orElseThrow().loggedBytes());

        fixture.with("maxTaskLogBytes", 1000L).reconfigure();
        await(writer.append(Stream.STDOUT, bytes("more")));
        TaskLogInfo finished = await(writer.finish("done"));
        assertEquals("no hole in the offsets: nothing more after the truncation", 8, finished.loggedBytes());
        assertEquals(14, finished.outputBytes());
        assertEquals("STDOUT@0:12345|STDOUT@5:678", read("t-reconfigured"));
    }
}
