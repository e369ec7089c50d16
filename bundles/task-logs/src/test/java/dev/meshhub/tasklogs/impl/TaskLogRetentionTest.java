package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput;

/** The task-log-retention task: by age, then by size oldest first, never an open log, in one walk. */
public class TaskLogRetentionTest {

    private static final int LOGS = 10_000;
    private static final Instant NOW = Instant.now();

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    /** Task i: the old half in shards 00 to 7f, the young half in 80 to ff; the higher i, the younger. */
    private static String taskId(int i) {
        int shard = i < LOGS / 2 ? i % 128 : 128 + i % 128;
        return String.format(Locale.ROOT, "t-%02x%014x", shard, i);
    }

    private static Instant modified(int i) {
        Duration age = i < LOGS / 2 ? Duration.ofDays(30).minusSeconds(i) : Duration.ofDays(5).minusSeconds(i);
        return NOW.minus(age);
    }

    /** Writes the logs by hand, each the same size, and returns that size. */
    private long writeLogs() throws Exception {
        long size = -1;
        for (int i = 0; i < LOGS; i++) {
            Path file = new TaskLogsFixture.LogBytes().record(TaskLogFormat.STDOUT, bytes("output of task " + i % 10))
                    .end("SUCCEEDED, exit code 0", 16).writeTo(fixture.logFile(taskId(i)), modified(i));
            size = size < 0 ? Files.size(file) : size;
        }
        return size;
    }

    private long directories() throws Exception {
        try (Stream<Path> entries = Files.list(fixture.root)) {
            return entries.filter(Files::isDirectory).count();
        }
    }

    @Test
    public void tenThousandLogsAreRemovedByAgeThenOldestFirstDownTo80PercentOfTheTotalCap() throws Exception {
        long size = writeLogs();
        // Room for 4,000 logs: after the old half goes by age, the 5,000 young ones exceed 80% of it (about 3,200).
        fixture.with("maxTotalBytes", 4000 * size);
        Path foreign = Files.writeString(fixture.root.resolve("80").resolve("README.txt"), "not a log");
        TaskLogs logs = fixture.component();
        assertEquals("counted at activation", LOGS * size, fixture.component().current().space().totalBytes());
        TaskLogWriter open = logs.start(taskId(0)); // an open log of an old task: its old file is replaced
        await(open.append(TaskOutput.Stream.STDOUT, bytes("still running")));
        Files.setLastModifiedTime(fixture.logFile(taskId(0)), FileTime.from(NOW.minus(Duration.ofDays(100))));
        assertEquals(256, directories());

        TaskLogRetention.Report report = fixture.component().current().retention();

        // The open log's bytes count too: the young logs kept are those that fit beside it under 80%.
        long openBytes = fixture.component().current().space().liveBytes();
        int kept = (int) (((long) (0.8 * 4000 * size) - openBytes) / size);
        assertEquals(LOGS / 2 - 1, report.removedByAge());
        assertEquals(LOGS / 2 - kept, report.removedBySize());
        assertEquals(kept, report.keptLogs());
        assertEquals((report.removedByAge() + report.removedBySize()) * size, report.removedBytes());
        assertEquals(0, report.failures());
        assertEquals(kept * size + openBytes, report.totalBytes());
        assertEquals("the open log's shard and the young ones", 129, directories());
        assertEquals(127, report.directoriesRemoved());
        assertTrue("open logs are untouched", Files.exists(fixture.logFile(taskId(0))));
        assertTrue(logs.info(taskId(0)).orElseThrow().open());
        assertTrue("not a log: left alone", Files.exists(foreign));
        assertFalse(logs.info(taskId(LOGS / 2)).isPresent());
        int youngestRemoved = LOGS / 2 + report.removedBySize() - 1;
        assertFalse("the oldest young ones went by size", logs.info(taskId(youngestRemoved)).isPresent());
        assertTrue("the youngest are kept", logs.info(taskId(youngestRemoved + 1)).isPresent());
        assertTrue(logs.info(taskId(LOGS - 1)).isPresent());

        TaskLogRetention.Report again = fixture.component().current().retention();
        assertEquals(0, again.removedByAge() + again.removedBySize());
        assertEquals(kept, again.keptLogs());
        await(open.finish("SUCCEEDED, exit code 0"));
    }

    @Test
    public void aRecountFollowsFilesRemovedByHand() throws Exception {
        TaskLogs logs = fixture.component();
        TaskLogWriter writer = logs.start("t-byhand");
        await(writer.append(TaskOutput.Stream.STDOUT, new byte[1000]));
        await(writer.finish("done"));
        long before = fixture.component().current().space().totalBytes();
        assertTrue(String.valueOf(before), before > 1000);
        Files.delete(fixture.logFile("t-byhand"));

        TaskLogRetention.Report report = fixture.component().current().retention();
        assertEquals(0, report.totalBytes());
        assertEquals("its empty shard goes too", 1, report.directoriesRemoved());
    }

    @Test
    public void aRunWithNoDirectoryYetRemovesNothing() throws Exception {
        fixture.with("directory", "elsewhere/logs");
        fixture.component().current().prepared().get();
        Files.delete(fixture.home.resolve("elsewhere/logs"));
        TaskLogRetention.Report report = fixture.component().current().retention();
        assertEquals(0, report.keptLogs());
        assertEquals(0, report.failures());
    }
}
