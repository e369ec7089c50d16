package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * A hub killed with tasks in flight (RELIABILITY 19, 30): committed rows survive the kill, and on the
 * next start every task left non-terminal is FAILED "outcome unknown", never re-run; a finished
 * task is untouched.
 */
public class CrashRecoveryTest {

    private static final int DURABLE_BEFORE_KILL = 30;
    private static final String END = "\u0000end";

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void tasksInFlightAtACrashAreFailedOnStartAndCommittedRowsSurvive() throws Exception {
        List<String> output = new ArrayList<>();
        List<String> durable = new ArrayList<>();
        Process process = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dderby.stream.error.file=" + journal.root().resolve("crashing-hub-derby.log"),
                CrashingHubProcess.class.getName(),
                journal.directory.toString()))
                .redirectErrorStream(true)
                .start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("read failed: " + e);
            } finally {
                lines.add(END);
            }
        }, "crashing-hub-output");
        reader.start();
        try {
            awaitLine(lines, output, CrashingHubProcess.READY::equals);
            while (durable.size() < DURABLE_BEFORE_KILL) {
                String line = awaitLine(lines, output, l -> l.startsWith(CrashingHubProcess.DURABLE));
                durable.add(line.substring(CrashingHubProcess.DURABLE.length()));
            }
        } finally {
            // The crash: no shutdown hook, no close, no Derby shutdown.
            process.destroyForcibly();
            assertTrue("the crashing hub did not die", process.waitFor(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS));
            reader.join(TimeUnit.SECONDS.toMillis(JournalFixture.WAIT_SECONDS));
        }
        assertFalse(reader.isAlive());
        // Every id printed before the kill was committed before it was printed.
        for (String line = lines.poll(); line != null && !END.equals(line); line = lines.poll()) {
            output.add(line);
            if (line.startsWith(CrashingHubProcess.DURABLE)) {
                durable.add(line.substring(CrashingHubProcess.DURABLE.length()));
            }
        }

        journal.clock.advance(Duration.ofHours(1));
        DerbyTaskJournal tasks = journal.openTasks();
        String context = "crashed hub said:\n" + String.join("\n", output);

        for (String id : List.of("queued", "dispatched", "running")) {
            TaskRecord record = get(tasks, id, context);
            assertEquals(id, TaskState.FAILED, record.state());
            assertEquals(id, TaskJournal.OUTCOME_UNKNOWN, record.diagnostic());
            assertEquals(id, journal.clock.peek(), record.finishedAt());
            assertNull(id, record.exitCode());
        }
        assertNull(get(tasks, "queued", context).dispatchedAt());
        assertNotNull(get(tasks, "dispatched", context).dispatchedAt());
        TaskRecord running = get(tasks, "running", context);
        assertNotNull(running.startedAt());
        assertArrayEquals(CrashingHubProcess.OUTPUT.getBytes(StandardCharsets.UTF_8), running.outputTail());

        TaskRecord succeeded = get(tasks, "succeeded", context);
        assertEquals(TaskState.SUCCEEDED, succeeded.state());
        assertEquals(Integer.valueOf(0), succeeded.exitCode());
        assertEquals("done", succeeded.diagnostic());
        assertTrue(succeeded.finishedAt().isBefore(journal.clock.peek()));

        assertTrue(context, durable.size() >= DURABLE_BEFORE_KILL);
        for (String id : durable) {
            TaskRecord burst = get(tasks, id, context);
            assertEquals(id, TaskState.FAILED, burst.state());
            assertEquals(id, TaskJournal.OUTCOME_UNKNOWN, burst.diagnostic());
        }
        // Nothing is left in flight; recovery only failed tasks, it moved none anywhere else.
        for (TaskState state : List.of(TaskState.QUEUED, TaskState.DISPATCHED, TaskState.RUNNING)) {
            assertEquals(List.of(), await(tasks.list(new TaskQuery(null, state, 10))));
        }
        assertEquals(0, journal.count("SELECT COUNT(*) FROM TASKS WHERE state = 'FAILED'"
                + " AND diagnostic <> ?", TaskJournal.OUTCOME_UNKNOWN));
        // A second start finds nothing to recover and changes nothing.
        tasks.close();
        journal.closeAll();
        journal.clock.advance(Duration.ofHours(1));
        DerbyTaskJournal restarted = journal.openTasks();
        assertEquals(journal.clock.peek().minus(Duration.ofHours(1)), get(restarted, "queued", context).finishedAt());
        System.out.println("crash recovery: " + durable.size() + " task(s) reported durable before the kill, "
                + journal.count("SELECT COUNT(*) FROM TASKS WHERE node_id = 'n-2'") + " burst task(s) on disk");
    }

    @Test
    public void recoveryHappensOnceAtOpenAndNotOnAReplacedTaskJournal() {
        JournalDatabase database = journal.openDatabase();
        DerbyTaskJournal first = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        await(first.create(JournalFixture.newTask("live", "n-1")));
        await(first.transition("live", TaskState.RUNNING, null, ""));
        first.close();

        // A configuration change replaces the task journal on the running database: the task is
        // still running on its node, so it must not be failed.
        DerbyTaskJournal second = journal.openTasks(database, new TaskJournalSettings(16, 8, 1024));
        assertEquals(TaskState.RUNNING, get(second, "live", "").state());
        assertTrue(await(second.transition("live", TaskState.SUCCEEDED, 0, "")));
    }

    private static TaskRecord get(DerbyTaskJournal tasks, String id, String context) {
        return await(tasks.get(id)).orElseThrow(() -> new AssertionError("task " + id + " is missing; " + context));
    }

    private static String awaitLine(BlockingQueue<String> lines, List<String> seen,
                                    java.util.function.Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(JournalFixture.WAIT_SECONDS);
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || END.equals(line)) {
                fail("the crashing hub did not say what was expected; it said:\n" + String.join("\n", seen));
            }
            seen.add(line);
            if (wanted.test(line)) {
                return line;
            }
        }
    }
}
