package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * Opening the journal fails the tasks a stopped hub left in flight, but never those of the hub that
 * is running: a journal bundle updated under a running hub finds its tasks as they were, and their
 * real outcome is recorded when it arrives.
 */
public class HubInstanceTest {

    @Rule
    public final JournalFixture journal = new JournalFixture();

    private DerbyTaskJournal open(String hubInstance) {
        return journal.openTasks(journal.openDatabase(hubInstance), TaskJournalSettings.DEFAULTS);
    }

    private TaskRecord task(DerbyTaskJournal tasks, String taskId) {
        return await(tasks.get(taskId)).orElseThrow();
    }

    @Test
    public void theRunningHubsTasksSurviveTheJournalReopeningAndEndWithTheirRealOutcome() {
        DerbyTaskJournal tasks = open("hub-A");
        await(tasks.create(JournalFixture.newTask("t-1", "n-1")));
        await(tasks.transition("t-1", TaskState.RUNNING, null, ""));
        journal.closeAll();

        DerbyTaskJournal reopened = open("hub-A");
        assertEquals("the same hub still follows it", TaskState.RUNNING, task(reopened, "t-1").state());
        assertTrue(await(reopened.transition("t-1", TaskState.SUCCEEDED, 0, "")));
        assertEquals(TaskState.SUCCEEDED, task(reopened, "t-1").state());
    }

    @Test
    public void aNewHubProcessFailsWhatTheOldOneLeftInFlight() {
        DerbyTaskJournal tasks = open("hub-A");
        await(tasks.create(JournalFixture.newTask("t-2", "n-1")));
        await(tasks.transition("t-2", TaskState.DISPATCHED, null, ""));
        journal.closeAll();

        TaskRecord failed = task(open("hub-B"), "t-2");
        assertEquals(TaskState.FAILED, failed.state());
        assertEquals(TaskJournal.OUTCOME_UNKNOWN, failed.diagnostic());
    }
}
