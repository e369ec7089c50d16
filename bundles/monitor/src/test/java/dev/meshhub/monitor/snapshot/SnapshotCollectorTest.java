package dev.meshhub.monitor.snapshot;

import static dev.meshhub.monitor.snapshot.Snapshots.T0;
import static dev.meshhub.monitor.snapshot.Snapshots.clockAt;
import static dev.meshhub.monitor.snapshot.Snapshots.nodes;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.Test;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskState;

public class SnapshotCollectorTest {

    private static final LockStats LOCKS = new LockStats(2, Duration.ofSeconds(4), 40, 37, 1, 5);

    private static SnapshotCollector collector(NodeDirectory directory, TaskJournal journal, Duration timeout) {
        return collector(directory, journal, FakeLockRegistry.answering(LOCKS), timeout);
    }

    private static SnapshotCollector collector(NodeDirectory directory, TaskJournal journal, LockRegistry locks,
                                               Duration timeout) {
        return new SnapshotCollector(() -> directory, () -> journal, () -> locks, clockAt(T0), timeout);
    }

    @Test
    public void collectsNodesTasksAndBacklog() throws Exception {
        FakeTaskJournal journal = FakeTaskJournal.answering(Map.of(TaskState.RUNNING, 3L, TaskState.FAILED, 1L), 7);
        MeshSnapshot snapshot = collector(new FakeNodeDirectory(nodes(2)), journal, Duration.ofSeconds(5)).collect();

        assertEquals(T0, snapshot.takenAt());
        assertEquals(nodes(2), snapshot.nodes());
        assertEquals(TaskState.values().length, snapshot.tasksByState().size());
        assertEquals(Long.valueOf(3), snapshot.tasksByState().get(TaskState.RUNNING));
        assertEquals(Long.valueOf(1), snapshot.tasksByState().get(TaskState.FAILED));
        assertEquals(Long.valueOf(0), snapshot.tasksByState().get(TaskState.QUEUED));
        assertEquals(Long.valueOf(7), snapshot.journalBacklog());
        assertEquals(LOCKS, snapshot.locks());
        assertEquals(List.of(), snapshot.unavailable());
    }

    @Test
    public void missingServicesAreReportedUnavailable() throws Exception {
        MeshSnapshot snapshot = collector(null, null, null, Duration.ofSeconds(5)).collect();

        assertNull(snapshot.nodes());
        assertNull(snapshot.tasksByState());
        assertNull(snapshot.journalBacklog());
        assertNull(snapshot.locks());
        assertEquals(List.of("transport: not running", "journal: not running", "locks: no lock registry running"),
                snapshot.unavailable());
    }

    @Test
    public void lockRegistryFailingIsReportedAndTheRestCollected() throws Exception {
        FakeLockRegistry stopping = new FakeLockRegistry(() -> {
            throw new IllegalStateException("the lock registry is stopped");
        });
        MeshSnapshot snapshot = collector(new FakeNodeDirectory(nodes(1)), FakeTaskJournal.answering(Map.of(), 0),
                stopping, Duration.ofSeconds(5)).collect();

        assertNull(snapshot.locks());
        assertEquals(nodes(1), snapshot.nodes());
        assertEquals(List.of("locks: the lock registry is stopped"), snapshot.unavailable());
    }

    @Test
    public void theLockRegistryIsAskedEachTimeSoAReplacementIsSeen() throws Exception {
        AtomicReference<LockRegistry> current = new AtomicReference<>();
        SnapshotCollector collector = new SnapshotCollector(() -> null, () -> null, current::get, clockAt(T0),
                Duration.ofSeconds(5));

        assertNull(collector.collect().locks());
        current.set(FakeLockRegistry.answering(LOCKS));
        assertEquals(LOCKS, collector.collect().locks());
    }

    @Test
    public void failedCountIsReportedWithTheJournalsMessage() throws Exception {
        FakeTaskJournal journal = FakeTaskJournal.failing("journal stopped", 4);
        MeshSnapshot snapshot = collector(new FakeNodeDirectory(nodes(1)), journal, Duration.ofSeconds(5)).collect();

        assertNull(snapshot.tasksByState());
        assertEquals("the backlog is read from memory, apart from the count", Long.valueOf(4), snapshot.journalBacklog());
        assertEquals(List.of("journal: journal stopped"), snapshot.unavailable());
    }

    @Test
    public void countThrowingAtOnceIsReportedToo() throws Exception {
        FakeTaskJournal journal = FakeTaskJournal.throwing(new IllegalStateException("journal overloaded"), 0);
        MeshSnapshot snapshot = collector(null, journal, Duration.ofSeconds(5)).collect();

        assertNull(snapshot.tasksByState());
        assertEquals(List.of("transport: not running", "journal: journal overloaded"), snapshot.unavailable());
    }

    @Test
    public void countNotAnsweringWithinTheTimeoutIsReported() throws Exception {
        FakeTaskJournal journal = FakeTaskJournal.silent(2);
        MeshSnapshot snapshot = collector(new FakeNodeDirectory(nodes(1)), journal, Duration.ofMillis(50)).collect();

        assertNull(snapshot.tasksByState());
        assertEquals(Long.valueOf(2), snapshot.journalBacklog());
        assertEquals(nodes(1), snapshot.nodes());
        assertEquals(List.of("journal: did not answer within 50 ms"), snapshot.unavailable());
    }

    @Test
    public void interruptWhileWaitingForTheJournalPropagates() throws Exception {
        FakeTaskJournal journal = FakeTaskJournal.silent(0);
        SnapshotCollector collector = collector(null, journal, Duration.ofMinutes(10));
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread run = new Thread(() -> {
            try {
                collector.collect();
                outcome.set(new AssertionError("collect() returned"));
            } catch (Throwable e) {
                outcome.set(e);
            }
        });
        run.start();
        journal.countCalls.await();
        run.interrupt();
        run.join();

        assertTrue(String.valueOf(outcome.get()), outcome.get() instanceof InterruptedException);
    }

    @Test
    public void nonPositiveTimeoutIsRefused() {
        try {
            collector(null, null, Duration.ZERO);
            fail("a zero timeout was accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("positive"));
        }
    }
}
