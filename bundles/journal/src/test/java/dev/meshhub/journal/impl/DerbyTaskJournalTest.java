package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static dev.meshhub.journal.impl.JournalFixture.newTask;
import static dev.meshhub.journal.impl.JournalFixture.stateFailedAlready;
import static dev.meshhub.journal.impl.JournalFixture.stateFailure;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

public class DerbyTaskJournalTest {

    private static final Instant START = JournalFixture.START;

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void theProgramTheNodeRanIsKeptFromItsFirstStart() {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(JournalFixture.newTask("t-prog", "n-1")));
        assertEquals("", await(tasks.get("t-prog")).orElseThrow().program());
        await(tasks.transition("t-prog", TaskState.RUNNING, null, "/usr/bin/ls"));
        await(tasks.transition("t-prog", TaskState.RUNNING, null, "/tmp/other"));
        await(tasks.transition("t-prog", TaskState.SUCCEEDED, 0, ""));
        TaskRecord record = await(tasks.get("t-prog")).orElseThrow();
        assertEquals("/usr/bin/ls", record.program());
        assertEquals("", record.diagnostic());
    }

    @Test
    public void taskLivesFromQueuedToSucceededWithTheJournalsTimestamps() {
        DerbyTaskJournal tasks = journal.openTasks();

        TaskRecord created = await(tasks.create(newTask("t-1", "n-1")));
        assertEquals(TaskState.QUEUED, created.state());
        assertEquals(START, created.createdAt());
        TaskRecord queued = get(tasks, "t-1");
        assertEquals(TaskState.QUEUED, queued.state());
        assertEquals("name-n-1", queued.nodeName());
        assertEquals("command", queued.kind());
        assertEquals("echo t-1", queued.summary());
        assertArrayEquals("spec of t-1".getBytes(StandardCharsets.UTF_8), queued.spec());
        assertEquals(START, queued.createdAt());
        assertNull(queued.dispatchedAt());
        assertNull(queued.startedAt());
        assertNull(queued.finishedAt());
        assertNull(queued.exitCode());
        assertEquals("", queued.diagnostic());
        assertEquals(0, queued.outputTail().length);

        journal.clock.advance(Duration.ofSeconds(1));
        assertTrue(await(tasks.transition("t-1", TaskState.DISPATCHED, null, "")));
        journal.clock.advance(Duration.ofSeconds(1));
        assertTrue(await(tasks.transition("t-1", TaskState.RUNNING, 99, "/usr/bin/echo")));
        TaskRecord running = get(tasks, "t-1");
        assertEquals("for RUNNING the text is the program the node ran", "/usr/bin/echo", running.program());
        assertEquals(TaskState.RUNNING, running.state());
        assertEquals(START.plusSeconds(1), running.dispatchedAt());
        assertEquals(START.plusSeconds(2), running.startedAt());
        assertNull(running.exitCode());
        assertEquals("", running.diagnostic());

        journal.clock.advance(Duration.ofSeconds(1));
        assertTrue(await(tasks.transition("t-1", TaskState.SUCCEEDED, 0, "exit 0")));
        TaskRecord done = get(tasks, "t-1");
        assertEquals(TaskState.SUCCEEDED, done.state());
        assertEquals(Integer.valueOf(0), done.exitCode());
        assertEquals("exit 0", done.diagnostic());
        assertEquals(START, done.createdAt());
        assertEquals(START.plusSeconds(1), done.dispatchedAt());
        assertEquals(START.plusSeconds(2), done.startedAt());
        assertEquals(START.plusSeconds(3), done.finishedAt());

        // A terminal task never changes, whatever arrives later.
        journal.clock.advance(Duration.ofSeconds(1));
        for (TaskState state : TaskState.values()) {
            assertFalse(state.name(), await(tasks.transition("t-1", state, 7, "late " + state)));
        }
        assertEquals(done, withoutArrays(get(tasks, "t-1"), done));
    }

    @Test
    public void aTaskCreatedDispatchedIsOneWriteAndMovesOnFromThere() {
        DerbyTaskJournal tasks = journal.openTasks();

        TaskRecord created = await(tasks.createDispatched(newTask("t-d", "n-1")));
        assertEquals(TaskState.DISPATCHED, created.state());
        assertEquals(START, created.createdAt());
        assertEquals("dispatched when created", START, created.dispatchedAt());
        TaskRecord stored = get(tasks, "t-d");
        assertEquals(TaskState.DISPATCHED, stored.state());
        assertEquals(START, stored.dispatchedAt());
        assertNull(stored.startedAt());
        assertArrayEquals("spec of t-d".getBytes(StandardCharsets.UTF_8), stored.spec());
        assertEquals("counted in flight", Long.valueOf(1), await(tasks.countByState()).get(TaskState.DISPATCHED));

        journal.clock.advance(Duration.ofSeconds(1));
        assertFalse("a late DISPATCHED changes nothing", await(tasks.transition("t-d", TaskState.DISPATCHED, null, "")));
        assertTrue(await(tasks.transition("t-d", TaskState.SUCCEEDED, 0, "")));
        TaskRecord done = get(tasks, "t-d");
        assertEquals(START, done.dispatchedAt());
        assertEquals(START.plusSeconds(1), done.finishedAt());
        assertEquals(Long.valueOf(1), await(tasks.countByState()).get(TaskState.SUCCEEDED));

        IllegalStateException twice = JournalFixture.failure(tasks.createDispatched(newTask("t-d", "n-1")), IllegalStateException.class);
        assertTrue(twice.getMessage(), twice.getMessage().contains("already exists"));
    }

    @Test
    public void lateOrRepeatedTransitionsNeverMoveATaskBackwards() {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));
        assertFalse(await(tasks.transition("t-1", TaskState.QUEUED, null, "")));
        // The node's "started" overtook the hub's "dispatched": RUNNING implies dispatched.
        assertTrue(await(tasks.transition("t-1", TaskState.RUNNING, null, "")));
        assertFalse(await(tasks.transition("t-1", TaskState.DISPATCHED, null, "")));
        assertFalse(await(tasks.transition("t-1", TaskState.RUNNING, null, "")));
        TaskRecord running = get(tasks, "t-1");
        assertEquals(TaskState.RUNNING, running.state());
        assertEquals(START, running.dispatchedAt());
        assertEquals(START, running.startedAt());
        // A task may end from any non-terminal state.
        await(tasks.create(newTask("t-2", "n-1")));
        assertTrue(await(tasks.transition("t-2", TaskState.CANCELLED, null, "cancelled by admin")));
        TaskRecord cancelled = get(tasks, "t-2");
        assertEquals(TaskState.CANCELLED, cancelled.state());
        assertNull(cancelled.exitCode());
        assertNull(cancelled.dispatchedAt());
        assertEquals(START, cancelled.finishedAt());
    }

    @Test
    public void unknownTaskFailsOnlyItsOwnStage() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));

        IllegalStateException unknown = stateFailure(tasks.transition("ghost", TaskState.RUNNING, null, ""));
        assertEquals("no task ghost", unknown.getMessage());

        // In one batch with good writes, the unknown id fails alone.
        long commits = tasks.commits();
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        CompletionStage<Boolean> ghost;
        CompletionStage<Boolean> good;
        CompletionStage<TaskRecord> created;
        try {
            ghost = tasks.transition("ghost", TaskState.SUCCEEDED, 0, "");
            good = tasks.transition("t-1", TaskState.DISPATCHED, null, "");
            created = tasks.create(newTask("t-2", "n-1"));
        } finally {
            release.countDown();
        }
        assertEquals("no task ghost", stateFailure(ghost).getMessage());
        assertTrue(await(good));
        assertEquals("t-2", await(created).taskId());
        // The blocking write's batch, then this one.
        assertEquals(commits + 2, tasks.commits());
        assertEquals(TaskState.DISPATCHED, get(tasks, "t-1").state());
        assertTrue(await(tasks.get("ghost")).isEmpty());
    }

    @Test
    public void duplicateTaskIdFailsThatCreateOnly() {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));
        IllegalStateException duplicate = stateFailure(tasks.create(newTask("t-1", "n-2")));
        assertEquals("task t-1 already exists; task ids are single use", duplicate.getMessage());
        assertEquals("n-1", get(tasks, "t-1").nodeId());
    }

    @Test
    public void specsOverOneMebibyteAreRefusedAtOnce() {
        DerbyTaskJournal tasks = journal.openTasks();
        byte[] biggest = new byte[1024 * 1024];
        Arrays.fill(biggest, (byte) 7);
        await(tasks.create(new NewTask("t-big", "n-1", "n", "command", "big", biggest)));
        assertArrayEquals(biggest, get(tasks, "t-big").spec());

        IllegalStateException refused = stateFailedAlready(
                tasks.create(new NewTask("t-huge", "n-1", "n", "command", "huge", new byte[1024 * 1024 + 1])));
        assertEquals("task t-huge spec is 1048577 bytes; the journal keeps at most 1048576 bytes (1 MiB)",
                refused.getMessage());
        assertTrue(await(tasks.get("t-huge")).isEmpty());
    }

    @Test
    public void malformedCallsAreRefusedAtOnce() {
        DerbyTaskJournal tasks = journal.openTasks();
        assertEquals("task must not be null", stateFailedAlready(tasks.create(null)).getMessage());
        assertEquals("task id must not be empty",
                stateFailedAlready(tasks.create(new NewTask("", "n", "n", "command", "", new byte[0]))).getMessage());
        assertEquals("task id must be at most 64 characters, got 65", stateFailedAlready(
                tasks.create(new NewTask("t".repeat(65), "n", "n", "command", "", new byte[0]))).getMessage());
        assertEquals("task t has no spec",
                stateFailedAlready(tasks.create(new NewTask("t", "n", "n", "command", "", null))).getMessage());
        assertEquals("state must not be null", stateFailedAlready(tasks.transition("t", null, null, "")).getMessage());
        assertEquals("output of task t must not be null", stateFailedAlready(tasks.appendOutput("t", null)).getMessage());
        assertEquals("node id must not be empty", stateFailedAlready(tasks.failNodeTasks(null, "")).getMessage());
        assertEquals("actor must not be empty", stateFailedAlready(tasks.record(" ", "a.b", "s", "")).getMessage());
        assertEquals("query must not be null", stateFailedAlready(tasks.list(null)).getMessage());
        assertEquals("task id must not be empty", stateFailedAlready(tasks.recordOutput(null, 0, "")).getMessage());
        assertEquals("task id must be at most 64 characters, got 65",
                stateFailedAlready(tasks.recordOutput("t".repeat(65), 0, "")).getMessage());
        assertEquals("output bytes of task t must not be negative, got -1",
                stateFailedAlready(tasks.recordOutput("t", -1, "")).getMessage());
    }

    @Test
    public void theOutputsSizeAndTruncationAsTheLogEndedAreKeptWithTheTaskDurably() {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-whole", "n-1")));
        await(tasks.create(newTask("t-cut", "n-1")));
        TaskRecord before = get(tasks, "t-whole");
        assertNull("not recorded yet", before.outputBytes());
        assertEquals("", before.outputTruncation());

        // A log ends after its task: recorded whatever the task's state, even a terminal one.
        await(tasks.appendOutput("t-whole", "hello\n".getBytes(StandardCharsets.UTF_8)));
        await(tasks.transition("t-whole", TaskState.SUCCEEDED, 0, ""));
        await(tasks.recordOutput("t-whole", 12_345, ""));
        await(tasks.transition("t-cut", TaskState.FAILED, 1, "exited with 1"));
        String truncation = "log truncated: the per-task cap of 1073741824 bytes (maxTaskLogBytes) was reached at output"
                + " byte 1073741824";
        await(tasks.recordOutput("t-cut", 2_147_483_648L, truncation));

        TaskRecord whole = get(tasks, "t-whole");
        assertEquals(Long.valueOf(12_345), whole.outputBytes());
        assertEquals("", whole.outputTruncation());
        assertEquals("the rest of the task is as it was", TaskState.SUCCEEDED, whole.state());
        assertArrayEquals("hello\n".getBytes(StandardCharsets.UTF_8), whole.outputTail());
        TaskRecord cut = get(tasks, "t-cut");
        assertEquals("beyond an int", Long.valueOf(2_147_483_648L), cut.outputBytes());
        assertEquals(truncation, cut.outputTruncation());
        assertEquals("exited with 1", cut.diagnostic());
        // Listings carry it too.
        for (TaskRecord listed : await(tasks.list(new TaskQuery("n-1", null, 10)))) {
            assertEquals(get(tasks, listed.taskId()).outputBytes(), listed.outputBytes());
            assertEquals(get(tasks, listed.taskId()).outputTruncation(), listed.outputTruncation());
        }
        // A later call replaces an earlier one; a null truncation is "".
        await(tasks.recordOutput("t-cut", 0, null));
        assertEquals(Long.valueOf(0), get(tasks, "t-cut").outputBytes());
        assertEquals("", get(tasks, "t-cut").outputTruncation());
        await(tasks.recordOutput("t-cut", 2_147_483_648L, truncation));

        // Durable: read back after the database was closed and opened again.
        journal.closeAll();
        DerbyTaskJournal reopened = journal.openTasks();
        assertEquals(Long.valueOf(12_345), get(reopened, "t-whole").outputBytes());
        assertEquals(Long.valueOf(2_147_483_648L), get(reopened, "t-cut").outputBytes());
        assertEquals(truncation, get(reopened, "t-cut").outputTruncation());
    }

    @Test
    public void aLongTruncationIsCutToItsColumnNeverSplittingACharacter() {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));
        await(tasks.create(newTask("t-2", "n-1")));
        await(tasks.recordOutput("t-1", 5, "w".repeat(5000)));
        assertEquals("w".repeat(JournalSchema.MAX_OUTPUT_TRUNCATION_LENGTH), get(tasks, "t-1").outputTruncation());
        // A surrogate pair across the limit goes whole.
        String astral = "\uD83D\uDCA5"; // one character, two chars
        await(tasks.recordOutput("t-2", 5, "w".repeat(JournalSchema.MAX_OUTPUT_TRUNCATION_LENGTH - 1) + astral + "tail"));
        assertEquals("w".repeat(JournalSchema.MAX_OUTPUT_TRUNCATION_LENGTH - 1), get(tasks, "t-2").outputTruncation());
        await(tasks.recordOutput("t-2", 5, "w".repeat(JournalSchema.MAX_OUTPUT_TRUNCATION_LENGTH - 2) + astral + "tail"));
        assertEquals("w".repeat(JournalSchema.MAX_OUTPUT_TRUNCATION_LENGTH - 2) + astral, get(tasks, "t-2").outputTruncation());
    }

    @Test
    public void theOutputOfAnUnknownTaskCompletesAndWritesNothing() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));
        assertNull(await(tasks.recordOutput("ghost", 10, "log truncated")));
        assertTrue(await(tasks.get("ghost")).isEmpty());

        // In one batch with other writes, it neither fails nor disturbs them.
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        CompletionStage<Void> ghost;
        CompletionStage<Void> good;
        CompletionStage<Boolean> ended;
        try {
            ended = tasks.transition("t-1", TaskState.SUCCEEDED, 0, "");
            ghost = tasks.recordOutput("ghost-2", 10, "");
            good = tasks.recordOutput("t-1", 7, "");
        } finally {
            release.countDown();
        }
        assertNull(await(ghost));
        assertNull(await(good));
        assertTrue(await(ended));
        assertEquals(Long.valueOf(7), get(tasks, "t-1").outputBytes());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM TASKS"));
        assertEquals(1, journal.count("SELECT COUNT(*) FROM TASKS WHERE output_bytes IS NOT NULL"));
    }

    @Test
    public void summaryAndDiagnosticAreCutToTheirColumns() {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(new NewTask("t-1", "n-1", "n", "command", "s".repeat(600), new byte[0])));
        await(tasks.transition("t-1", TaskState.FAILED, 2, "d".repeat(3000)));
        TaskRecord record = get(tasks, "t-1");
        assertEquals("s".repeat(500), record.summary());
        assertEquals("d".repeat(2000), record.diagnostic());
        assertEquals(Integer.valueOf(2), record.exitCode());
    }

    @Test
    public void outputTailKeepsTheLastBytesAcrossManyAppends() {
        DerbyTaskJournal tasks = journal.openTasks(new TaskJournalSettings(1024, 512, 1000));
        await(tasks.create(newTask("t-1", "n-1")));
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < 60; i++) {
            byte[] chunk = chunk(i, 37 + i);
            all.writeBytes(chunk);
            await(tasks.appendOutput("t-1", chunk));
            assertArrayEquals("after append " + i, lastBytes(all.toByteArray(), 1000), get(tasks, "t-1").outputTail());
        }
        // One chunk larger than the tail replaces it entirely.
        byte[] flood = chunk(99, 2500);
        await(tasks.appendOutput("t-1", flood));
        assertArrayEquals(lastBytes(flood, 1000), get(tasks, "t-1").outputTail());
        // Empty output changes nothing.
        await(tasks.appendOutput("t-1", new byte[0]));
        assertArrayEquals(lastBytes(flood, 1000), get(tasks, "t-1").outputTail());
        // Output arriving after the end is dropped: a terminal task never changes.
        await(tasks.transition("t-1", TaskState.SUCCEEDED, 0, ""));
        await(tasks.appendOutput("t-1", chunk(7, 10)));
        assertArrayEquals(lastBytes(flood, 1000), get(tasks, "t-1").outputTail());
    }

    @Test
    public void appendsWaitingTogetherAreMergedIntoOneWrite() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks(new TaskJournalSettings(1024, 512, 1000));
        await(tasks.create(newTask("t-1", "n-1")));
        await(tasks.create(newTask("t-2", "n-1")));
        await(tasks.appendOutput("t-1", chunk(1, 300)));
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        first.writeBytes(chunk(1, 300));
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        List<CompletionStage<Void>> appends = new ArrayList<>();
        CompletionStage<Void> ghost;
        long commits = tasks.commits();
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            for (int i = 0; i < 200; i++) {
                byte[] chunk = chunk(i, 1 + i % 17);
                ByteArrayOutputStream target = i % 3 == 0 ? second : first;
                target.writeBytes(chunk);
                appends.add(tasks.appendOutput(i % 3 == 0 ? "t-2" : "t-1", chunk));
            }
            ghost = tasks.appendOutput("ghost", chunk(5, 5));
        } finally {
            release.countDown();
        }
        for (CompletionStage<Void> append : appends) {
            await(append);
        }
        assertEquals("no task ghost", stateFailure(ghost).getMessage());
        assertEquals(commits + 2, tasks.commits());
        assertArrayEquals(lastBytes(first.toByteArray(), 1000), get(tasks, "t-1").outputTail());
        assertArrayEquals(lastBytes(second.toByteArray(), 1000), get(tasks, "t-2").outputTail());
    }

    @Test
    public void aStartAndAnEndWaitingTogetherAreOneWriteWithTheSameOutcomeAsTwo() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.createDispatched(newTask("quick", "n-1")));
        await(tasks.createDispatched(newTask("long", "n-1")));
        await(tasks.transition("long", TaskState.RUNNING, null, "/usr/bin/sleep"));
        journal.clock.advance(Duration.ofSeconds(2));
        CompletionStage<Boolean> started;
        CompletionStage<Void> output;
        CompletionStage<Boolean> ended;
        CompletionStage<Boolean> longEnded;
        CompletionStage<Boolean> ghostStarted;
        CompletionStage<Boolean> ghostEnded;
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            started = tasks.transition("quick", TaskState.RUNNING, null, "/usr/bin/echo");
            output = tasks.appendOutput("quick", "hi\n".getBytes(StandardCharsets.UTF_8));
            ended = tasks.transition("quick", TaskState.SUCCEEDED, 0, "");
            tasks.transition("long", TaskState.RUNNING, null, "/usr/bin/other");
            longEnded = tasks.transition("long", TaskState.FAILED, 1, "exit 1");
            ghostStarted = tasks.transition("ghost", TaskState.RUNNING, null, "");
            ghostEnded = tasks.transition("ghost", TaskState.SUCCEEDED, 0, "");
        } finally {
            release.countDown();
        }
        assertTrue("the start changed the task", await(started));
        assertTrue(await(ended));
        await(output);
        TaskRecord quick = get(tasks, "quick");
        assertEquals(TaskState.SUCCEEDED, quick.state());
        assertEquals("/usr/bin/echo", quick.program());
        assertEquals(START.plusSeconds(2), quick.startedAt());
        assertEquals(START.plusSeconds(2), quick.finishedAt());
        assertEquals(START, quick.dispatchedAt());
        assertEquals(Integer.valueOf(0), quick.exitCode());
        assertArrayEquals("output sent before the end is kept", "hi\n".getBytes(StandardCharsets.UTF_8), quick.outputTail());

        assertTrue("a task that had started ends all the same", await(longEnded));
        TaskRecord slow = get(tasks, "long");
        assertEquals(TaskState.FAILED, slow.state());
        assertEquals("the first start's program stays", "/usr/bin/sleep", slow.program());
        assertEquals("and its start time", START, slow.startedAt());
        assertEquals("exit 1", slow.diagnostic());

        assertEquals("no task ghost", stateFailure(ghostStarted).getMessage());
        assertEquals("no task ghost", stateFailure(ghostEnded).getMessage());
        Map<TaskState, Long> counts = await(tasks.countByState());
        assertEquals(Long.valueOf(1), counts.get(TaskState.SUCCEEDED));
        assertEquals(Long.valueOf(1), counts.get(TaskState.FAILED));
    }

    @Test
    public void aStartIsFoldedOnlyIntoTheEndThatDirectlyFollowsIt() {
        BatchPlan.StateChange startA = change("a", TaskState.RUNNING);
        BatchPlan.StateChange startB = change("b", TaskState.RUNNING);
        BatchPlan.StateChange endA = change("a", TaskState.SUCCEEDED);
        BatchPlan.StateChange dispatchB = change("b", TaskState.DISPATCHED);
        BatchPlan.StateChange endB = change("b", TaskState.FAILED);
        List<JournalWrite<?>> units = BatchPlan.foldStartAndEnd(List.of(startA, startB, endA, dispatchB, endB));
        assertEquals("a's start and end are one write at the end's place; b's start is not next to its end",
                List.of(startB, "folded", dispatchB, endB), units.stream().map(u -> u == startB || u == dispatchB || u == endB
                        ? (Object) u : (Object) "folded").toList());
    }

    private static BatchPlan.StateChange change(String taskId, TaskState state) {
        return new BatchPlan.StateChange(taskId, state, state.isTerminal() ? 0 : null, "") { };
    }

    @Test
    public void mergingMakesOneWritePerTaskAndKeepsOtherWritesInPlace() {
        JournalWrite<TaskRecord> create = JournalWrite.of("task.create", (c, now) -> null);
        List<JournalWrite<?>> units = BatchPlan.mergeOutput(List.of(
                new BatchPlan.OutputAppend("a", chunk(1, 3), 10), create,
                new BatchPlan.OutputAppend("b", chunk(2, 3), 10),
                new BatchPlan.OutputAppend("a", chunk(3, 3), 10)), 10);
        assertEquals(3, units.size());
        assertEquals(create, units.get(1));
    }

    @Test
    public void failNodeTasksFailsExactlyThatNodesPendingTasks() {
        DerbyTaskJournal tasks = journal.openTasks();
        for (String id : List.of("q", "d", "r", "s")) {
            await(tasks.create(newTask(id, "n-1")));
        }
        for (String id : List.of("q2", "r2")) {
            await(tasks.create(newTask(id, "n-2")));
        }
        await(tasks.transition("d", TaskState.DISPATCHED, null, ""));
        await(tasks.transition("r", TaskState.RUNNING, null, ""));
        await(tasks.transition("s", TaskState.SUCCEEDED, 0, "ok"));
        await(tasks.transition("r2", TaskState.RUNNING, null, ""));
        journal.clock.advance(Duration.ofMinutes(1));

        List<String> failed = await(tasks.failNodeTasks("n-1", "node n-1 disconnected: keepalive timeout"));

        assertEquals(Set.of("q", "d", "r"), Set.copyOf(failed));
        assertEquals(3, failed.size());
        for (String id : failed) {
            TaskRecord record = get(tasks, id);
            assertEquals(id, TaskState.FAILED, record.state());
            assertEquals("node n-1 disconnected: keepalive timeout", record.diagnostic());
            assertEquals(START.plus(Duration.ofMinutes(1)), record.finishedAt());
            assertNull(record.exitCode());
        }
        TaskRecord succeeded = get(tasks, "s");
        assertEquals(TaskState.SUCCEEDED, succeeded.state());
        assertEquals("ok", succeeded.diagnostic());
        assertEquals(START, succeeded.finishedAt());
        assertEquals(TaskState.QUEUED, get(tasks, "q2").state());
        assertEquals(TaskState.RUNNING, get(tasks, "r2").state());
        // Nothing is left to fail, and an unknown node has nothing.
        assertEquals(List.of(), await(tasks.failNodeTasks("n-1", "again")));
        assertEquals(List.of(), await(tasks.failNodeTasks("n-404", "never seen")));
        assertFalse(await(tasks.transition("r", TaskState.SUCCEEDED, 0, "too late")));
    }

    @Test
    public void listShowsNewestFirstByNodeAndState() {
        DerbyTaskJournal tasks = journal.openTasks();
        for (int i = 0; i < 6; i++) {
            await(tasks.create(newTask("t-" + i, i % 2 == 0 ? "n-even" : "n-odd")));
            journal.clock.advance(Duration.ofSeconds(1));
        }
        await(tasks.transition("t-4", TaskState.RUNNING, null, ""));

        assertEquals(List.of("t-5", "t-4", "t-3", "t-2", "t-1", "t-0"), ids(await(tasks.list(new TaskQuery(null, null, 10)))));
        assertEquals(List.of("t-5", "t-4"), ids(await(tasks.list(new TaskQuery(null, null, 2)))));
        assertEquals(List.of("t-4", "t-2", "t-0"), ids(await(tasks.list(new TaskQuery("n-even", null, 10)))));
        assertEquals(List.of("t-4"), ids(await(tasks.list(new TaskQuery("n-even", TaskState.RUNNING, 10)))));
        assertEquals(List.of("t-5", "t-3", "t-2", "t-1", "t-0"),
                ids(await(tasks.list(new TaskQuery(null, TaskState.QUEUED, 10)))));
        assertEquals(List.of(), await(tasks.list(new TaskQuery("n-none", null, 10))));
    }

    @Test
    public void readsAreServedWhileTheWriterIsBusy() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            CompletionStage<Boolean> waiting = tasks.transition("t-1", TaskState.RUNNING, null, "");
            assertEquals(TaskState.QUEUED, get(tasks, "t-1").state());
            assertEquals(1, await(tasks.list(new TaskQuery("n-1", null, 10))).size());
            assertFalse(waiting.toCompletableFuture().isDone());
        } finally {
            release.countDown();
        }
    }

    @Test
    public void auditRecordWritesARow() {
        DerbyTaskJournal tasks = journal.openTasks();
        journal.clock.advance(Duration.ofSeconds(5));
        await(tasks.record("shell", "policy.set", "n-0123456789ab", "STRICT -> PERMISSIVE"));
        await(tasks.record("config:" + "f".repeat(100), "node.revoke", "s".repeat(100), null));

        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE actor = 'shell' AND action = 'policy.set'"
                + " AND subject = 'n-0123456789ab' AND detail = 'STRICT -> PERMISSIVE'"));
        assertEquals("2030-01-01 00:00:05.0",
                journal.queryString("SELECT CAST(\"AT\" AS VARCHAR(30)) FROM AUDIT WHERE action = 'policy.set'")
                        .replace("T", " "));
        // Cut to the columns, never refused.
        assertEquals(64, journal.count("SELECT LENGTH(actor) FROM AUDIT WHERE action = 'node.revoke'"));
        assertEquals(64, journal.count("SELECT LENGTH(subject) FROM AUDIT WHERE action = 'node.revoke'"));
        assertEquals("", journal.queryString("SELECT detail FROM AUDIT WHERE action = 'node.revoke'"));
    }

    @Test
    public void theAuditTrailReadsBackNewestFirstAndBounded() {
        DerbyTaskJournal tasks = journal.openTasks();
        for (int i = 1; i <= 3; i++) {
            journal.clock.advance(Duration.ofSeconds(1));
            await(tasks.record("console", "task.cancel", "t-" + i, "cancelled " + i));
        }
        List<dev.meshhub.api.audit.AuditEntry> latest = await(tasks.recentAudit(2));
        assertEquals(2, latest.size());
        assertEquals("t-3", latest.get(0).subject());
        assertEquals("t-2", latest.get(1).subject());
        assertEquals("console", latest.get(0).actor());
        assertEquals("cancelled 3", latest.get(0).detail());
        assertTrue(latest.get(0).at().isAfter(latest.get(1).at()));
        assertTrue(stateFailure(tasks.recentAudit(0)).getMessage().contains("limit must be between 1 and 1000"));
        assertEquals(3, await(tasks.recentAudit(1000)).size());
    }

    private static TaskRecord get(DerbyTaskJournal tasks, String taskId) {
        return await(tasks.get(taskId)).orElseThrow(() -> new AssertionError("no task " + taskId));
    }

    /** Records hold arrays, compared by identity: take the arrays of {@code expected} when equal. */
    private static TaskRecord withoutArrays(TaskRecord actual, TaskRecord expected) {
        assertArrayEquals(expected.spec(), actual.spec());
        assertArrayEquals(expected.outputTail(), actual.outputTail());
        return new TaskRecord(actual.taskId(), actual.nodeId(), actual.nodeName(), actual.kind(), actual.summary(),
                expected.spec(), actual.state(), actual.createdAt(), actual.dispatchedAt(), actual.startedAt(),
                actual.finishedAt(), actual.exitCode(), actual.diagnostic(), expected.outputTail(), actual.program(),
                actual.outputBytes(), actual.outputTruncation());
    }

    private static List<String> ids(List<TaskRecord> records) {
        return records.stream().map(TaskRecord::taskId).toList();
    }

    /** {@code length} bytes that differ by {@code seed} and position, so misplaced bytes show. */
    static byte[] chunk(int seed, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (seed * 31 + i);
        }
        return bytes;
    }

    static byte[] lastBytes(byte[] all, int max) {
        return Arrays.copyOfRange(all, Math.max(0, all.length - max), all.length);
    }

    @Test
    public void countsTasksByStateAndReportsTheWriteBacklog() throws Exception {
        DerbyTaskJournal tasks = journal.openTasks();
        java.util.Map<TaskState, Long> empty = await(tasks.countByState());
        assertEquals("every state present", TaskState.values().length, empty.size());
        assertTrue(empty.toString(), empty.values().stream().allMatch(n -> n == 0));

        for (String id : new String[] {"c-1", "c-2", "c-3"}) {
            await(tasks.create(newTask(id, "n-1")));
        }
        assertTrue(await(tasks.transition("c-2", TaskState.RUNNING, null, "")));
        assertTrue(await(tasks.transition("c-3", TaskState.FAILED, 1, "exit 1")));
        java.util.Map<TaskState, Long> counts = await(tasks.countByState());
        assertEquals(Long.valueOf(1), counts.get(TaskState.QUEUED));
        assertEquals(Long.valueOf(1), counts.get(TaskState.RUNNING));
        assertEquals(Long.valueOf(1), counts.get(TaskState.FAILED));
        assertEquals(Long.valueOf(0), counts.get(TaskState.SUCCEEDED));

        awaitNoBacklog(tasks);
        java.util.concurrent.CountDownLatch release = JournalFixture.occupyWriter(tasks);
        java.util.List<java.util.concurrent.CompletionStage<TaskRecord>> waiting = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waiting.add(tasks.create(newTask("w-" + i, "n-1")));
        }
        assertEquals("five queued plus the write holding the writer", 6, tasks.writeBacklog());
        release.countDown();
        waiting.forEach(JournalFixture::await);
        awaitNoBacklog(tasks);
        assertEquals(Long.valueOf(6), await(tasks.countByState()).get(TaskState.QUEUED));
    }

    /** A batch counts until the writer is done with it, a moment after its writes' stages complete. */
    private static void awaitNoBacklog(DerbyTaskJournal tasks) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(JournalFixture.WAIT_SECONDS);
        while (tasks.writeBacklog() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, tasks.writeBacklog());
    }
}
