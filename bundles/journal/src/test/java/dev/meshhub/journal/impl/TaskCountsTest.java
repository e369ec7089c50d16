package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertEquals;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.TaskState;

/**
 * The journal's task counts (finished ones kept in memory, in-flight ones from the index) always
 * equal a count of the table: through creates, moves, refused moves, a dropped node, retention, and
 * a reopen.
 */
public class TaskCountsTest {

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void theCountsAlwaysEqualACountOfTheTable() throws Exception {
        JournalDatabase database = journal.openDatabase();
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        for (int i = 0; i < 40; i++) {
            await(tasks.create(JournalFixture.newTask("t-" + i, i % 2 == 0 ? "n-1" : "n-2")));
        }
        assertCounted(tasks);
        for (int i = 0; i < 40; i += 3) {
            await(tasks.transition("t-" + i, TaskState.DISPATCHED, null, ""));
        }
        for (int i = 0; i < 40; i += 4) {
            await(tasks.transition("t-" + i, i % 8 == 0 ? TaskState.SUCCEEDED : TaskState.CANCELLED, 0, ""));
        }
        // Moves the journal refuses (already finished, unknown task) change nothing.
        await(tasks.transition("t-0", TaskState.FAILED, 1, "late"));
        try {
            await(tasks.transition("no-such-task", TaskState.SUCCEEDED, 0, ""));
            org.junit.Assert.fail("an unknown task moved");
        } catch (AssertionError | RuntimeException refused) {
            if (refused.getMessage() == null || !refused.getMessage().contains("no task no-such-task")) {
                throw refused;
            }
        }
        assertCounted(tasks);
        await(tasks.failNodeTasks("n-1", "node left"));
        assertCounted(tasks);

        journal.clock.advance(Duration.ofDays(40));
        await(tasks.create(JournalFixture.newTask("fresh", "n-2")));
        await(tasks.transition("fresh", TaskState.FAILED, 3, "fresh failure"));
        new JournalRetention(database, tasks.finishedCounts()::deleted).run(
                new JournalRetention.Keep(Duration.ofDays(30), Duration.ofDays(30), Duration.ofDays(30)), journal.clock.instant());
        assertCounted(tasks);
        assertEquals(Long.valueOf(1), await(tasks.countByState()).get(TaskState.FAILED));

        journal.closeAll();
        DerbyTaskJournal reopened = journal.openTasks(journal.openDatabase(), TaskJournalSettings.DEFAULTS);
        assertCounted(reopened);
    }

    private void assertCounted(DerbyTaskJournal tasks) throws Exception {
        Map<TaskState, Long> table = new EnumMap<>(TaskState.class);
        for (TaskState state : TaskState.values()) {
            table.put(state, (long) journal.count("SELECT COUNT(*) FROM TASKS WHERE state = '" + state.name() + "'"));
        }
        assertEquals(table, new EnumMap<>(await(tasks.countByState())));
    }
}
