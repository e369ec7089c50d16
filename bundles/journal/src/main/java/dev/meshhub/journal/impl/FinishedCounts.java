package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

import dev.meshhub.api.task.TaskState;

/**
 * How many finished tasks the journal holds per state, kept in memory so that counting tasks (the
 * monitor, every 30 s) never reads the finished tasks' index entries: counted once when the journal
 * opens, then moved by every committed change (a task finishing adds one; retention deleting
 * subtracts). Tasks in flight are few and counted from the front of the phase/node index instead.
 *
 * <p>Only this process writes the journal's tasks (the database is embedded and held by one
 * process), so nothing changes them behind these counts.
 */
final class FinishedCounts {

    private final AtomicLongArray counts = new AtomicLongArray(TaskState.values().length);

    /** Counts the finished tasks now in the table (an index scan of the finished range; once, at open). */
    void load(Connection connection) throws SQLException {
        try (Statement select = connection.createStatement();
             ResultSet rows = select.executeQuery("SELECT state, COUNT(*) FROM TASKS WHERE phase = 1 GROUP BY state")) {
            while (rows.next()) {
                counts.set(TaskState.valueOf(rows.getString(1)).ordinal(), rows.getLong(2));
            }
        }
    }

    /** {@code n} tasks reached {@code state} (terminal) in a committed transaction. */
    void finished(TaskState state, long n) {
        if (state.isTerminal() && n > 0) {
            counts.addAndGet(state.ordinal(), n);
        }
    }

    /** Tasks retention deleted in a committed transaction, per state. */
    void deleted(Map<TaskState, Long> byState) {
        byState.forEach((state, n) -> counts.addAndGet(state.ordinal(), -n));
    }

    /** Every state: the finished ones from these counts, the ones in flight counted now from the index. */
    Map<TaskState, Long> withInFlight(Connection connection) throws SQLException {
        Map<TaskState, Long> all = new EnumMap<>(TaskState.class);
        for (TaskState state : TaskState.values()) {
            all.put(state, state.isTerminal() ? counts.get(state.ordinal()) : 0L);
        }
        try (Statement select = connection.createStatement();
             ResultSet rows = select.executeQuery("SELECT state, COUNT(*) FROM TASKS WHERE phase = 0 GROUP BY state")) {
            while (rows.next()) {
                all.put(TaskState.valueOf(rows.getString(1)), rows.getLong(2));
            }
        }
        return all;
    }
}
