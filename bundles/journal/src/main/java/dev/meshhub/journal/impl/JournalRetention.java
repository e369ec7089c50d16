package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.task.TaskState;

/**
 * Deletes what the journal need not keep forever: finished tasks (with their environment values and
 * output tails) created before the task cutoff, audit rows before the audit cutoff, and invites spent
 * or expired before the invite cutoff. In batches of {@link #BATCH} rows, each its own short
 * transaction on a connection of its own, so dispatch's writes interleave and never wait long; rows
 * are chosen through the indexes on creation time and primary keys. Runs on the management
 * scheduler's thread, never a gRPC or Netty one.
 */
final class JournalRetention {

    static final int BATCH = 500;
    private static final Logger LOG = LoggerFactory.getLogger(JournalRetention.class);

    /** What to keep: {@link Duration#ZERO} keeps that kind of row forever. */
    record Keep(Duration tasks, Duration audit, Duration invites) {
    }

    /** How many rows one run deleted. */
    record Deleted(long tasks, long audit, long invites) {
    }

    private final JournalDatabase database;
    private final java.util.function.Consumer<Map<TaskState, Long>> tasksDeleted;

    /** @param tasksDeleted told, after each committed batch, how many finished tasks it deleted per state */
    JournalRetention(JournalDatabase database, java.util.function.Consumer<Map<TaskState, Long>> tasksDeleted) {
        this.database = database;
        this.tasksDeleted = tasksDeleted;
    }

    Deleted run(Keep keep, Instant now) throws SQLException {
        long tasks = keep.tasks().isZero() ? 0 : purge(finishedTasks(now.minus(keep.tasks())), "DELETE FROM TASKS WHERE task_id = ?",
                tasksDeleted);
        long audit = keep.audit().isZero() ? 0 : purge(new Select("SELECT id FROM AUDIT WHERE \"AT\" < ? ORDER BY id", now.minus(keep.audit())),
                "DELETE FROM AUDIT WHERE id = ?", null);
        long invites = keep.invites().isZero() ? 0 : purge(new Select("SELECT invite_id FROM INVITES WHERE (used_at IS NOT NULL AND used_at < ?)"
                + " OR expires_at < ?", now.minus(keep.invites())), "DELETE FROM INVITES WHERE invite_id = ?", null);
        if (tasks + audit + invites > 0) {
            LOG.info("journal retention deleted {} finished task(s), {} audit row(s), {} spent or expired invite(s)", tasks, audit,
                    invites);
        }
        return new Deleted(tasks, audit, invites);
    }

    /** A query for the keys of rows older than {@code cutoff} (bound to every '?'). */
    private record Select(String sql, Instant cutoff) {
    }

    private static Select finishedTasks(Instant cutoff) {
        List<String> terminal = new ArrayList<>();
        for (TaskState state : TaskState.values()) {
            if (state.isTerminal()) {
                terminal.add("'" + state.name() + "'");
            }
        }
        return new Select("SELECT task_id, state FROM TASKS WHERE created_at < ? AND state IN (" + String.join(", ", terminal) + ")", cutoff);
    }

    /**
     * Deletes the selected rows, a batch per transaction, until none is left; returns how many.
     *
     * @param byState when not null, the select's second column is a task state, and this is told
     *                after each commit how many rows of each state went
     */
    private long purge(Select select, String delete, java.util.function.Consumer<Map<TaskState, Long>> byState) throws SQLException {
        long deleted = 0;
        while (true) {
            Map<TaskState, Long> states = new java.util.EnumMap<>(TaskState.class);
            int batch = database.inTransaction(connection -> {
                states.clear(); // a retried transaction counts afresh
                return deleteBatch(connection, select, delete, byState == null ? null : states);
            });
            if (byState != null && !states.isEmpty()) {
                byState.accept(states);
            }
            deleted += batch;
            if (batch < BATCH) {
                return deleted;
            }
            Thread.yield();
        }
    }

    private static int deleteBatch(Connection connection, Select select, String delete, Map<TaskState, Long> states)
            throws SQLException {
        List<Object> keys = new ArrayList<>();
        try (PreparedStatement query = connection.prepareStatement(select.sql() + " FETCH FIRST " + BATCH + " ROWS ONLY")) {
            int parameters = (int) select.sql().chars().filter(c -> c == '?').count();
            for (int i = 1; i <= parameters; i++) {
                JournalTime.set(query, i, select.cutoff());
            }
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    keys.add(rows.getObject(1));
                    if (states != null) {
                        states.merge(TaskState.valueOf(rows.getString(2)), 1L, Long::sum);
                    }
                }
            }
        }
        try (PreparedStatement statement = connection.prepareStatement(delete)) {
            for (Object key : keys) {
                statement.setObject(1, key);
                statement.addBatch();
            }
            if (!keys.isEmpty()) {
                statement.executeBatch();
            }
        }
        return keys.size();
    }
}
