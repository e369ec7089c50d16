package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * The enrollment store and the task journal share one database: Derby is booted once, the audit
 * trail is one sequence, and the database shuts down only after the last of them is closed.
 */
public class SharedDatabaseTest {

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void databaseShutsDownOnlyAfterBothStoresAreClosed() {
        JournalDatabase database = journal.openDatabase();
        DerbyEnrollmentStore store = journal.openEnrollment(database);
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        database.close();
        journal.invite(store);

        store.close();
        // The task journal still holds its share: the database is up.
        await(tasks.create(JournalFixture.newTask("t-1", "n-1")));
        assertEquals(1, journal.count("SELECT COUNT(*) FROM TASKS"));
        assertFalse(JournalFixture.journalThreads().isEmpty());
        try {
            JournalDatabase.open(journal.directory, journal.clock, 1, 1);
            fail("the directory was opened twice in one JVM");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is already open in this JVM"));
        }

        tasks.close();
        // Both closed: Derby shut down, every journal thread gone, the directory free again.
        assertEquals(List.of(), JournalFixture.journalThreads());
        try {
            new DerbyTaskJournal(database, journal.clock, TaskJournalSettings.DEFAULTS);
            fail("a task journal opened on a closed database");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().endsWith("is closed"));
        }
        // Opening it again is a restart: the task committed before is there, and was in flight.
        DerbyTaskJournal reopened = journal.openTasks();
        TaskRecord task = await(reopened.get("t-1")).orElseThrow();
        assertEquals(TaskState.FAILED, task.state());
        assertEquals(TaskJournal.OUTCOME_UNKNOWN, task.diagnostic());
    }

    @Test
    public void enrollmentAndAuditLogShareOneAuditTrail() {
        JournalDatabase database = journal.openDatabase();
        DerbyEnrollmentStore store = journal.openEnrollment(database);
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        List<CompletionStage<IssuedInvite>> invites = new ArrayList<>();
        List<CompletionStage<Void>> records = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            invites.add(store.createInvite(null, "shared " + i));
            records.add(tasks.record("shell", "policy.set", "n-" + i, "shared " + i));
        }
        invites.forEach(JournalFixture::await);
        records.forEach(JournalFixture::await);
        assertEquals(200, journal.count("SELECT COUNT(DISTINCT id) FROM AUDIT"));
        assertEquals(100, journal.count("SELECT COUNT(*) FROM AUDIT WHERE actor = 'admin' AND action = 'invite.create'"));
        assertEquals(100, journal.count("SELECT COUNT(*) FROM AUDIT WHERE actor = 'shell' AND action = 'policy.set'"));
    }
}
