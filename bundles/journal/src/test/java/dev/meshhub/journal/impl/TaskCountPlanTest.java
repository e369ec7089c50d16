package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.task.TaskState;

/**
 * The monitor's count of tasks per state (every 30 s): the finished ones come from counts kept in
 * memory, the ones in flight from the front of the phase/node index (Derby picks
 * TASKS_PHASE_NODE_STATE), never the table rows with their specs and output tails.
 */
public class TaskCountPlanTest {

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void countingTasksByStateReadsAnIndexNotTheTable() throws Exception {
        JournalDatabase database = journal.openDatabase();
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        for (int i = 0; i < 50; i++) {
            await(tasks.create(JournalFixture.newTask("t-" + i, "n-1")));
        }
        String plan;
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            statement.execute("CALL SYSCS_UTIL.SYSCS_SET_RUNTIMESTATISTICS(1)");
            Map<TaskState, Long> counts = new FinishedCounts().withInFlight(connection);
            assertEquals(Long.valueOf(50), counts.get(TaskState.QUEUED));
            try (ResultSet rows = statement.executeQuery("VALUES SYSCS_UTIL.SYSCS_GET_RUNTIMESTATISTICS()")) {
                rows.next();
                plan = rows.getString(1);
            }
        }
        assertTrue(plan, plan.contains("Index Scan ResultSet for TASKS using index TASKS_PHASE_NODE_STATE"));
        assertTrue(plan, !plan.contains("Table Scan ResultSet for TASKS"));
    }

    @Test
    public void aNodesTasksInFlightAreFoundThroughTheIndexWhenItDrops() throws Exception {
        JournalDatabase database = journal.openDatabase();
        DerbyTaskJournal tasks = journal.openTasks(database, TaskJournalSettings.DEFAULTS);
        for (int i = 0; i < 50; i++) {
            await(tasks.create(JournalFixture.newTask("t-" + i, i % 2 == 0 ? "n-1" : "n-2")));
            if (i % 5 == 0) {
                await(tasks.transition("t-" + i, TaskState.SUCCEEDED, 0, ""));
            }
        }
        String plan;
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            statement.execute("CALL SYSCS_UTIL.SYSCS_SET_RUNTIMESTATISTICS(1)");
            assertEquals(20, TaskTable.failNodeTasks(connection, "n-1", "node left", journal.clock.instant()).size());
            try (ResultSet rows = statement.executeQuery("VALUES SYSCS_UTIL.SYSCS_GET_RUNTIMESTATISTICS()")) {
                rows.next();
                plan = rows.getString(1);
            }
        }
        assertTrue(plan, plan.contains("using index TASKS_PHASE_NODE_STATE"));
        assertTrue(plan, !plan.contains("Table Scan ResultSet for TASKS"));
    }
}
