package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.until;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.util.concurrent.CompletionStage;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.task.TaskOutput.Stream;

/** The component's life: stopping finishes open logs and leaves no thread or file open; configuration changes. */
public class TaskLogsComponentTest {

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private static boolean ioThreadsAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(thread -> thread.getName().startsWith("meshhub-task-logs-io-") && thread.isAlive());
    }

    @Test
    public void stoppingFinishesOpenLogsAndLeavesNoThreadOrFileOpen() throws Exception {
        TaskLogsComponent component = fixture.component();
        TaskLogWriter running = component.start("t-running");
        await(running.append(Stream.STDOUT, bytes("half way")));
        TaskLogReader reader = component.read("t-running", 0);
        reader.next();
        reader.close();
        assertTrue(TaskLogsFixture.openFilesUnder(fixture.root) != 0);

        component.deactivate();

        TaskLogInfo stopped = await(running.finish("SUCCEEDED, exit code 0"));
        assertEquals(TaskLogsComponent.STOPPED, stopped.ending());
        assertFalse(stopped.open());
        CompletionStage<Void> late = running.append(Stream.STDOUT, bytes("after the stop"));
        await(late);
        assertEquals(stopped, TaskLogScan.scan("t-running", fixture.logFile("t-running")));
        assertEquals(0, Math.max(0, TaskLogsFixture.openFilesUnder(fixture.root)));
        until("the IO threads are gone", () -> !ioThreadsAlive());
        try {
            component.start("t-after");
            fail("started a log on a stopped component");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("not active"));
        }
    }

    @Test
    public void anInvalidConfigurationStartsNothingAndAnInvalidChangeKeepsThePreviousOne() throws Exception {
        TaskLogsComponent refused = new TaskLogsComponent();
        try {
            refused.open(fixture.home.toString(), fixture.with("ioThreads", 0).config());
            fail("started with ioThreads = 0");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().startsWith("dev.meshhub.tasklogs: ioThreads"));
        }
        fixture.with("ioThreads", 2);
        TaskLogsComponent component = fixture.component();
        try {
            component.modified(fixture.with("maxTotalBytes", 0L).config());
            fail("accepted maxTotalBytes = 0");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("maxTotalBytes"));
        }
        assertEquals(8L << 30, component.current().settings().maxTotalBytes());
    }

    @Test
    public void aNewDirectoryFinishesTheOpenLogsInTheOldOne() throws Exception {
        TaskLogsComponent component = fixture.component();
        TaskLogWriter running = component.start("t-moving");
        await(running.append(Stream.STDOUT, bytes("in the old place")));
        fixture.with("directory", "data/new-logs").reconfigure();

        TaskLogInfo moved = await(running.finish("SUCCEEDED, exit code 0"));
        assertEquals(TaskLogsComponent.MOVED, moved.ending());
        assertTrue(Files.exists(fixture.logFile("t-moving")));
        assertFalse("served from the new directory", component.info("t-moving").isPresent());
        await(component.start("t-moving").finish("done"));
        assertTrue(Files.exists(TaskLogNames.path(fixture.home.resolve("data/new-logs"), "t-moving")));
    }

    @Test
    public void moreOrFewerIoThreadsApplyAtOnce() throws Exception {
        TaskLogsComponent component = fixture.component();
        fixture.with("ioThreads", 8).reconfigure();
        fixture.with("ioThreads", 1).reconfigure();
        TaskLogWriter[] writers = new TaskLogWriter[20];
        for (int i = 0; i < writers.length; i++) {
            writers[i] = component.start("t-many" + i);
            writers[i].append(Stream.STDOUT, bytes("chunk " + i));
        }
        for (int i = 0; i < writers.length; i++) {
            assertEquals(("chunk " + i).length(), await(writers[i].finish("done")).loggedBytes());
        }
        assertEquals(0, component.status().openLogs());
    }
}
