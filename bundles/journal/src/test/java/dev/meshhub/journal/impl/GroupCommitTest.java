package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static dev.meshhub.journal.impl.JournalFixture.newTask;
import static dev.meshhub.journal.impl.JournalFixture.stateFailedAlready;
import static dev.meshhub.journal.impl.JournalFixture.stateFailure;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/** Writes are grouped into few commits, fail alone, are refused when too many wait, and drain on close. */
public class GroupCommitTest {

    private static final int WRITERS = 4;
    private static final int WRITES_PER_WRITER = 500;

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void concurrentWritesShareCommits() throws Exception {
        DerbyTaskJournal tasks = journal.openTasks();
        long before = tasks.commits();
        CountDownLatch start = new CountDownLatch(1);
        List<CompletionStage<?>> stages = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < WRITES_PER_WRITER; i++) {
                    String id = "g-" + writer + "-" + i;
                    // Creates, and audit rows between them: both kinds share the writer.
                    stages.add(i % 5 == 4 ? tasks.record("test", "test.group", id, "") : tasks.create(newTask(id, "n-" + writer)));
                }
            }, "group-writer-" + w);
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(JournalFixture.WAIT_SECONDS));
            assertFalse(thread.isAlive());
        }
        int writes = WRITERS * WRITES_PER_WRITER;
        assertEquals(writes, stages.size());
        for (CompletionStage<?> stage : stages) {
            await(stage);
        }
        long commits = tasks.commits() - before;
        System.out.println("group commit: " + writes + " writes from " + WRITERS + " threads in " + commits + " commits");
        assertTrue(writes + " writes took " + commits + " commits", commits > 0 && commits <= writes / 10);
        assertEquals(writes * 4 / 5, journal.count("SELECT COUNT(*) FROM TASKS"));
        assertEquals(writes / 5, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'test.group'"));
    }

    @Test
    public void waitingWritesAreCommittedInBatchesOfAtMostMaxBatch() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks(new TaskJournalSettings(8192, 100, 65536));
        List<CompletionStage<TaskRecord>> creates = new ArrayList<>();
        long before = tasks.commits();
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            for (int i = 0; i < 1000; i++) {
                creates.add(tasks.create(newTask("b-" + i, "n-1")));
            }
        } finally {
            release.countDown();
        }
        for (CompletionStage<TaskRecord> create : creates) {
            await(create);
        }
        // The blocking write's commit, then exactly 1000 / 100.
        assertEquals(before + 1 + 10, tasks.commits());
        assertEquals(1000, await(tasks.list(new TaskQuery("n-1", TaskState.QUEUED, 1000))).size());
    }

    @Test
    public void aBadWriteInABatchFailsOnlyItsOwnStage() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks();
        await(tasks.create(newTask("t-1", "n-1")));
        List<CompletionStage<?>> good = new ArrayList<>();
        List<String> completedOn = Collections.synchronizedList(new ArrayList<>());
        CompletionStage<TaskRecord> duplicate;
        CompletionStage<Boolean> unknown;
        CompletionStage<Void> unknownOutput;
        long before = tasks.commits();
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            good.add(tasks.create(newTask("t-2", "n-1")));
            duplicate = tasks.create(newTask("t-1", "n-1"));
            good.add(tasks.transition("t-1", TaskState.RUNNING, null, ""));
            unknown = tasks.transition("t-404", TaskState.SUCCEEDED, 0, "");
            good.add(tasks.appendOutput("t-2", new byte[] {1, 2, 3}));
            unknownOutput = tasks.appendOutput("t-405", new byte[] {4});
            good.add(tasks.record("admin", "policy.set", "n-1", "STRICT -> STRICT"));
            good.add(tasks.failNodeTasks("n-2", "nothing there"));
            for (CompletionStage<?> stage : good) {
                stage.whenComplete((value, failure) -> completedOn.add(Thread.currentThread().getName()));
            }
        } finally {
            release.countDown();
        }
        assertEquals("task t-1 already exists; task ids are single use", stateFailure(duplicate).getMessage());
        assertEquals("no task t-404", stateFailure(unknown).getMessage());
        assertEquals("no task t-405", stateFailure(unknownOutput).getMessage());
        for (CompletionStage<?> stage : good) {
            await(stage);
        }
        assertEquals("every good write was committed in one batch", before + 2, tasks.commits());
        assertEquals(good.size(), completedOn.size());
        assertEquals(Set.of(GroupCommitWriter.THREAD_NAME), Set.copyOf(completedOn));
        assertEquals(TaskState.RUNNING, await(tasks.get("t-1")).orElseThrow().state());
        assertEquals(3, await(tasks.get("t-2")).orElseThrow().outputTail().length);
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'policy.set'"));
    }

    @Test
    public void aStateChangeWaitsForTheNextNewTaskAndSharesItsCommit() throws Exception {
        JournalDatabase database = journal.openDatabase();
        AuditTrail audit = database.audit();
        // A long linger, so that nothing here depends on timing: only a write a caller waits on ends it.
        GroupCommitWriter writer = GroupCommitWriter.start(database::connect, journal.clock, 64, 64, taken -> taken,
                Duration.ofSeconds(60));
        try {
            CompletionStage<Void> change = writer.submit(JournalWrite.of("task.transition", (c, now) -> {
                audit.insert(c, now, "test", "test.linger", "change", "");
                return null;
            }));
            CompletionStage<Void> output = writer.submit(JournalWrite.of("task.output", (c, now) -> null));
            Thread.sleep(200);
            assertFalse("a state change alone waits for company", change.toCompletableFuture().isDone());
            assertFalse(output.toCompletableFuture().isDone());
            assertEquals(0, writer.commits());

            CompletionStage<Void> created = writer.submit(JournalWrite.of("task.create", (c, now) -> {
                audit.insert(c, now, "test", "test.linger", "create", "");
                return null;
            }));
            await(created);
            await(change);
            await(output);
            assertEquals("one commit for the three", 1, writer.commits());
            assertEquals(2, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'test.linger'"));
        } finally {
            assertTrue(writer.close(Duration.ofSeconds(JournalFixture.WAIT_SECONDS)));
        }
    }

    @Test
    public void aLingeringStateChangeIsStillWrittenWhenTheJournalCloses() throws Exception {
        JournalDatabase database = journal.openDatabase();
        AuditTrail audit = database.audit();
        GroupCommitWriter writer = GroupCommitWriter.start(database::connect, journal.clock, 64, 64, taken -> taken,
                Duration.ofSeconds(60));
        CompletionStage<Void> change = writer.submit(JournalWrite.of("task.transition", (c, now) -> {
            audit.insert(c, now, "test", "test.linger", "closing", "");
            return null;
        }));
        assertTrue(writer.close(Duration.ofSeconds(JournalFixture.WAIT_SECONDS)));
        await(change);
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE subject = 'closing'"));
    }

    @Test
    public void aWriteThatLosesTheTransactionIsDroppedAndTheBatchRunsAgain() throws Exception {
        JournalDatabase database = journal.openDatabase();
        AuditTrail audit = database.audit();
        GroupCommitWriter writer = GroupCommitWriter.start(database::connect, journal.clock, 64, 64, taken -> taken);
        try {
            // Hold the writer inside a first write (on the writer's own thread, never on this one: a
            // callback on its stage could run here if the stage completed first), so the rest form one batch.
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            writer.submit(JournalWrite.of("block", (c, now) -> {
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            }));
            assertTrue(holding.await(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS));
            List<CompletionStage<Void>> rows = new ArrayList<>();
            CompletionStage<Void> deadlocked;
            try {
                rows.add(writer.submit(JournalWrite.of("audit.record", (c, now) -> {
                    audit.insert(c, now, "test", "test.rerun", "before", "");
                    return null;
                })));
                deadlocked = writer.submit(JournalWrite.of("audit.record", (c, now) -> {
                    audit.insert(c, now, "test", "test.rerun", "lost", "");
                    // As Derby reports a deadlock: the whole transaction is gone.
                    throw new SQLException("a lock could not be obtained due to a deadlock", "40001");
                }));
                rows.add(writer.submit(JournalWrite.of("audit.record", (c, now) -> {
                    audit.insert(c, now, "test", "test.rerun", "after", "");
                    return null;
                })));
            } finally {
                release.countDown();
            }
            IllegalStateException lost = stateFailure(deadlocked);
            assertEquals("journal database error: SQLState 40001; see the hub log", lost.getMessage());
            for (CompletionStage<Void> row : rows) {
                await(row);
            }
            assertEquals(2, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'test.rerun'"));
            assertEquals(0, journal.count("SELECT COUNT(*) FROM AUDIT WHERE subject = 'lost'"));
            assertEquals(2, writer.commits());
        } finally {
            assertTrue(writer.close(Duration.ofSeconds(JournalFixture.WAIT_SECONDS)));
        }
    }

    @Test
    public void aFullQueueRefusesNewWorkAtOnceButNeverAStateChangeAndOutputCannotCrowdEitherOut() throws InterruptedException {
        DerbyTaskJournal tasks = journal.openTasks(new TaskJournalSettings(8, 512, 65536));
        await(tasks.create(newTask("t-1", "n-1")));
        List<CompletionStage<?>> queued = new ArrayList<>();
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            // A task printing as fast as it can: output takes three quarters of the queue, no more.
            for (int i = 0; i < 6; i++) {
                queued.add(tasks.appendOutput("t-1", new byte[] {(byte) i}));
            }
            assertEquals("journal is overloaded; retry shortly", stateFailedAlready(tasks.appendOutput("t-1", new byte[1])).getMessage());
            // New work still finds room, up to the queue's capacity...
            queued.add(tasks.create(newTask("t-2", "n-1")));
            queued.add(tasks.record("admin", "a.b", "s", ""));
            // ... and past it is refused with a clear status,
            for (CompletionStage<?> stage : List.of(tasks.create(newTask("t-3", "n-1")), tasks.record("admin", "a.b", "s", ""))) {
                assertEquals("journal is overloaded; retry shortly", stateFailedAlready(stage).getMessage());
            }
            // while a task's state change, or its output's size as its log ended, is never dropped.
            queued.add(tasks.transition("t-1", TaskState.RUNNING, null, ""));
            queued.add(tasks.failNodeTasks("n-9", "x"));
            queued.add(tasks.recordOutput("t-1", 6, ""));
            // Reads do not queue behind writes.
            assertTrue(await(tasks.get("t-1")).isPresent());
            for (CompletionStage<?> stage : queued) {
                assertFalse(stage.toCompletableFuture().isDone());
            }
        } finally {
            release.countDown();
        }
        for (CompletionStage<?> stage : queued) {
            await(stage);
        }
        assertEquals(6, await(tasks.get("t-1")).orElseThrow().outputTail().length);
        assertEquals(TaskState.RUNNING, await(tasks.get("t-1")).orElseThrow().state());
        assertEquals(Long.valueOf(6), await(tasks.get("t-1")).orElseThrow().outputBytes());
        await(tasks.create(newTask("t-3", "n-1")));
    }

    @Test
    public void closeCommitsPendingWritesThenRefusesEveryCall() throws Exception {
        JournalDatabase database = journal.openDatabase();
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        await(tasks.create(newTask("t-1", "n-1")));
        List<CompletionStage<?>> pending = new ArrayList<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Thread closer = new Thread(() -> {
            tasks.close();
            closed.complete(null);
        }, "closer");
        CountDownLatch release = JournalFixture.occupyWriter(tasks);
        try {
            for (int i = 0; i < 100; i++) {
                pending.add(tasks.create(newTask("p-" + i, "n-1")));
                pending.add(tasks.appendOutput("t-1", new byte[] {(byte) i}));
            }
            pending.add(tasks.failNodeTasks("n-1", "closing"));
            closer.start();
            awaitRefusal(tasks);
            for (CompletionStage<?> stage : pending) {
                assertFalse("nothing completes while the writer is held", stage.toCompletableFuture().isDone());
            }
            assertFalse(closed.isDone());
        } finally {
            release.countDown();
        }
        closed.get(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS);
        for (CompletionStage<?> stage : pending) {
            // Completed by close, not failed: each write is durable.
            assertTrue(stage.toCompletableFuture().isDone());
            await(stage);
        }
        assertTrue(JournalFixture.journalThreads().stream().noneMatch(GroupCommitWriter.THREAD_NAME::equals));

        String stopped = "journal is stopped";
        assertEquals(stopped, stateFailedAlready(tasks.create(newTask("late", "n-1"))).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.transition("t-1", TaskState.FAILED, 1, "")).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.appendOutput("t-1", new byte[1])).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.recordOutput("t-1", 1, "")).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.failNodeTasks("n-1", "")).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.get("t-1")).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.list(new TaskQuery(null, null, 1))).getMessage());
        assertEquals(stopped, stateFailedAlready(tasks.record("admin", "a.b", "s", "")).getMessage());
        tasks.close();

        database.close();
        assertEquals(List.of(), JournalFixture.journalThreads());
        // Everything was committed before Derby shut down.
        JournalDatabase reopened = journal.openDatabase();
        DerbyTaskJournal again = journal.openTasks(reopened, TaskJournalSettings.DEFAULTS);
        TaskRecord first = await(again.get("t-1")).orElseThrow();
        assertEquals(100, first.outputTail().length);
        assertEquals(TaskState.FAILED, first.state());
        assertEquals("closing", first.diagnostic());
        assertEquals(101, await(again.list(new TaskQuery("n-1", TaskState.FAILED, 1000))).size());
    }

    /**
     * Waits (polling, with a deadline) until the journal refuses calls, i.e. close() has begun. Asks
     * for an id too long to exist: an open journal answers that at once, without queueing work.
     */
    private static void awaitRefusal(DerbyTaskJournal tasks) {
        String impossible = "x".repeat(JournalSchema.MAX_TASK_ID_LENGTH + 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(JournalFixture.WAIT_SECONDS);
        while (!tasks.get(impossible).toCompletableFuture().isCompletedExceptionally()) {
            if (System.nanoTime() > deadline) {
                fail("close() did not begin");
            }
            Thread.onSpinWait();
        }
    }
}
