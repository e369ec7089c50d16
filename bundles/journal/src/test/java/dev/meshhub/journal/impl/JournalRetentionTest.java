package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertEquals;

import java.time.Duration;
import java.time.Instant;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.TaskState;

/**
 * Retention deletes old finished tasks, old audit rows and old spent or expired invites, in batches,
 * and nothing that is still running, recent, or unspent and valid.
 */
public class JournalRetentionTest {

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void oldFinishedTasksAuditRowsAndInvitesGoAndEverythingElseStays() throws Exception {
        JournalDatabase database = journal.openDatabase();
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        DerbyEnrollmentStore store = journal.openEnrollment(database);
        int old = JournalRetention.BATCH * 2 + 7;
        for (int i = 0; i < old; i++) {
            await(tasks.create(JournalFixture.newTask("old-" + i, "n-1")));
            await(tasks.transition("old-" + i, TaskState.SUCCEEDED, 0, ""));
        }
        await(tasks.create(JournalFixture.newTask("old-but-running", "n-1")));
        await(tasks.transition("old-but-running", TaskState.DISPATCHED, null, ""));
        await(tasks.record("admin", "policy.set", "n-1", "long ago"));
        String spent = journal.invite(store).token();
        await(store.enroll(spent, "old-node", "peer", null));

        journal.clock.advance(Duration.ofDays(40));
        await(tasks.create(JournalFixture.newTask("recent", "n-1")));
        await(tasks.transition("recent", TaskState.FAILED, 1, "recent failure"));
        await(tasks.record("admin", "policy.set", "n-1", "recently"));
        String fresh = journal.invite(store).token();

        JournalRetention.Deleted deleted = new JournalRetention(database, tasks.finishedCounts()::deleted).run(
                new JournalRetention.Keep(Duration.ofDays(30), Duration.ofDays(30), Duration.ofDays(30)), journal.clock.instant());

        assertEquals(old, deleted.tasks());
        java.util.Map<TaskState, Long> counted = await(tasks.countByState());
        assertEquals("the counts follow the deletions", Long.valueOf(0), counted.get(TaskState.SUCCEEDED));
        assertEquals(Long.valueOf(1), counted.get(TaskState.FAILED));
        assertEquals(Long.valueOf(1), counted.get(TaskState.DISPATCHED));
        assertEquals(0, journal.count("SELECT COUNT(*) FROM TASKS WHERE task_id LIKE 'old-%' AND task_id <> 'old-but-running'"));
        assertEquals("a task still in flight is never deleted", 1, journal.count("SELECT COUNT(*) FROM TASKS WHERE task_id = 'old-but-running'"));
        assertEquals(1, journal.count("SELECT COUNT(*) FROM TASKS WHERE task_id = 'recent'"));
        assertEquals(0, journal.count("SELECT COUNT(*) FROM AUDIT WHERE detail = 'long ago'"));
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE detail = 'recently'"));
        assertEquals("the spent invite went, the fresh one stays", 1, deleted.invites());
        assertEquals("old-node", store.find("old-node").orElseThrow().name());
        assertEquals("fresh", await(store.enroll(fresh, "fresh", "peer", null)).node().name());

        JournalRetention.Deleted nothing = new JournalRetention(database, tasks.finishedCounts()::deleted).run(
                new JournalRetention.Keep(Duration.ZERO, Duration.ZERO, Duration.ZERO), journal.clock.instant().plus(Duration.ofDays(999)));
        assertEquals(new JournalRetention.Deleted(0, 0, 0), nothing);
    }
}
