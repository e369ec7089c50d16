package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * The SQL of the {@code TASKS} table, each statement in the caller's transaction. Writes run on the
 * group-commit writer (the only thread that changes tasks), reads on the journal's executor.
 *
 * <p>A task only moves forward ({@code QUEUED < DISPATCHED < RUNNING < terminal}): a late or
 * repeated transition changes nothing, and a terminal task never changes. A refusal that concerns
 * only one write (unknown task, duplicate id) is an {@link IllegalStateException}.
 */
final class TaskTable {

    private static final String DUPLICATE_KEY = "23505";
    private static final String COLUMNS = "task_id, node_id, node_name, kind, summary, spec, state, created_at,"
            + " dispatched_at, started_at, finished_at, exit_code, diagnostic, output_tail, program, output_bytes,"
            + " output_truncation";
    /** Every non-terminal state, quoted for an IN list. */
    private static final String IN_FLIGHT = statesBefore(TaskState.SUCCEEDED);
    private static final byte[] NO_BYTES = new byte[0];

    private TaskTable() {
    }

    /** Inserts a QUEUED task; the values are already checked and cut to the column sizes. */
    static TaskRecord insert(Connection connection, NewTask task, Instant now, String hubInstance) throws SQLException {
        return insert(connection, task, TaskState.QUEUED, now, hubInstance);
    }

    /**
     * Inserts a task QUEUED, or DISPATCHED (dispatched when created: the caller sends it once this is
     * durable); the values are already checked and cut to the column sizes.
     */
    static TaskRecord insert(Connection connection, NewTask task, TaskState state, Instant now, String hubInstance) throws SQLException {
        if (state != TaskState.QUEUED && state != TaskState.DISPATCHED) {
            throw new IllegalArgumentException("a task is created QUEUED or DISPATCHED, not " + state);
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO TASKS (task_id, node_id, node_name,"
                + " kind, summary, spec, state, created_at, dispatched_at, diagnostic, hub_instance)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)")) {
            insert.setString(1, task.taskId());
            insert.setString(2, task.nodeId());
            insert.setString(3, task.nodeName());
            insert.setString(4, task.kind());
            insert.setString(5, task.summary());
            insert.setBytes(6, task.spec());
            insert.setString(7, state.name());
            JournalTime.set(insert, 8, now);
            JournalTime.set(insert, 9, state == TaskState.DISPATCHED ? now : null);
            insert.setString(10, hubInstance);
            insert.executeUpdate();
        } catch (SQLException e) {
            if (DUPLICATE_KEY.equals(e.getSQLState())) {
                throw new IllegalStateException("task " + task.taskId() + " already exists; task ids are single use", e);
            }
            throw e;
        }
        return new TaskRecord(task.taskId(), task.nodeId(), task.nodeName(), task.kind(), task.summary(), task.spec(),
                state, now, state == TaskState.DISPATCHED ? now : null, null, null, null, "", NO_BYTES);
    }

    /**
     * Moves a task forward to {@code state}, stamping the time the state calls for.
     *
     * @return whether the task changed (false: it is already at or past {@code state})
     * @throws IllegalStateException if there is no such task
     */
    static boolean transition(Connection connection, String taskId, TaskState state, Integer exitCode,
                              String diagnostic, Instant now) throws SQLException {
        String movable = statesBefore(state);
        int changed = 0;
        if (!movable.isEmpty()) {
            try (PreparedStatement update = connection.prepareStatement(transitionSql(state, movable))) {
                int index = 1;
                update.setString(index++, state.name());
                switch (state) {
                    case DISPATCHED -> JournalTime.set(update, index++, now);
                    case RUNNING -> {
                        JournalTime.set(update, index++, now);
                        JournalTime.set(update, index++, now);
                        String program = diagnostic == null ? "" : diagnostic;
                        update.setString(index++, program.length() > JournalSchema.MAX_PROGRAM_LENGTH
                                ? program.substring(0, JournalSchema.MAX_PROGRAM_LENGTH) : program);
                    }
                    default -> {
                        JournalTime.set(update, index++, now);
                        if (exitCode == null) {
                            update.setNull(index++, Types.INTEGER);
                        } else {
                            update.setInt(index++, exitCode);
                        }
                        update.setString(index++, diagnostic);
                    }
                }
                update.setString(index, taskId);
                changed = update.executeUpdate();
            }
        }
        if (changed == 0 && !exists(connection, taskId)) {
            throw noTask(taskId);
        }
        return changed == 1;
    }

    /**
     * A task's start and its end in one UPDATE (the node reported both before the batch was written):
     * what {@code transition(RUNNING, program)} then {@code transition(end, ...)} would leave, when the task
     * had not started yet.
     *
     * @return whether it applied (false: the task had started or ended already, or does not exist; the
     *         caller then applies the end alone)
     */
    static boolean startAndEnd(Connection connection, String taskId, String program, TaskState end, Integer exitCode,
                               String diagnostic, Instant now) throws SQLException {
        if (!end.isTerminal()) {
            throw new IllegalArgumentException("a task ends in a terminal state, not " + end);
        }
        try (PreparedStatement update = connection.prepareStatement("UPDATE TASKS SET state = ?,"
                + " dispatched_at = COALESCE(dispatched_at, CAST(? AS TIMESTAMP)), started_at = CAST(? AS TIMESTAMP), program = ?,"
                + " finished_at = ?, exit_code = ?, diagnostic = ? WHERE task_id = ? AND state IN (" + statesBefore(TaskState.RUNNING)
                + ")")) {
            update.setString(1, end.name());
            JournalTime.set(update, 2, now);
            JournalTime.set(update, 3, now);
            String ran = program == null ? "" : program;
            update.setString(4, ran.length() > JournalSchema.MAX_PROGRAM_LENGTH ? ran.substring(0, JournalSchema.MAX_PROGRAM_LENGTH) : ran);
            JournalTime.set(update, 5, now);
            if (exitCode == null) {
                update.setNull(6, Types.INTEGER);
            } else {
                update.setInt(6, exitCode);
            }
            update.setString(7, diagnostic);
            update.setString(8, taskId);
            return update.executeUpdate() == 1;
        }
    }

    private static String transitionSql(TaskState state, String movable) {
        String set = switch (state) {
            // A late DISPATCHED or RUNNING keeps the first time; RUNNING implies it was dispatched.
            case DISPATCHED -> "dispatched_at = COALESCE(dispatched_at, CAST(? AS TIMESTAMP))";
            case RUNNING -> "dispatched_at = COALESCE(dispatched_at, CAST(? AS TIMESTAMP)),"
                    + " started_at = COALESCE(started_at, CAST(? AS TIMESTAMP)), program = COALESCE(program, ?)";
            default -> "finished_at = ?, exit_code = ?, diagnostic = ?";
        };
        return "UPDATE TASKS SET state = ?, " + set + " WHERE task_id = ? AND state IN (" + movable + ")";
    }

    /**
     * Appends to a task's output tail, keeping only its last {@code tailBytes} bytes. Output that
     * arrives after the task ended is dropped: a terminal task never changes.
     *
     * @return whether the output was appended
     * @throws IllegalStateException if there is no such task
     */
    static boolean appendOutput(Connection connection, String taskId, byte[] added, int tailBytes)
            throws SQLException {
        byte[] current;
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT state, output_tail FROM TASKS WHERE task_id = ?")) {
            select.setString(1, taskId);
            try (ResultSet rows = select.executeQuery()) {
                if (!rows.next()) {
                    throw noTask(taskId);
                }
                if (TaskState.valueOf(rows.getString(1)).isTerminal()) {
                    return false;
                }
                current = rows.getBytes(2);
            }
        }
        if (added.length == 0) {
            return true;
        }
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE TASKS SET output_tail = ? WHERE task_id = ?")) {
            update.setBytes(1, tail(current == null ? NO_BYTES : current, added, tailBytes));
            update.setString(2, taskId);
            update.executeUpdate();
        }
        return true;
    }

    /**
     * Records a task's output as its log ended: the bytes the hub received and why the log left some out
     * ("" when whole), already cut to the column's size. Written whatever the task's state (a log ends
     * after its task), replacing what an earlier call recorded.
     *
     * @return whether there is such a task (false: nothing was written)
     */
    static boolean recordOutput(Connection connection, String taskId, long outputBytes, String truncation)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE TASKS SET output_bytes = ?, output_truncation = ? WHERE task_id = ?")) {
            update.setLong(1, outputBytes);
            update.setString(2, truncation);
            update.setString(3, taskId);
            return update.executeUpdate() == 1;
        }
    }

    /** The last {@code max} bytes of {@code first} followed by {@code second}. */
    static byte[] tail(byte[] first, byte[] second, int max) {
        if (second.length >= max) {
            return Arrays.copyOfRange(second, second.length - max, second.length);
        }
        int fromFirst = Math.min(first.length, max - second.length);
        byte[] joined = new byte[fromFirst + second.length];
        System.arraycopy(first, first.length - fromFirst, joined, 0, fromFirst);
        System.arraycopy(second, 0, joined, fromFirst, second.length);
        return joined;
    }

    /**
     * Fails every non-terminal task of a node.
     *
     * @return the ids of the tasks it failed, oldest first
     */
    static List<String> failNodeTasks(Connection connection, String nodeId, String diagnostic, Instant now)
            throws SQLException {
        List<String> ids = new ArrayList<>();
        // The writer is the only thread changing tasks, so the set cannot change between the two statements.
        try (PreparedStatement select = connection.prepareStatement("SELECT task_id FROM TASKS"
                + " WHERE phase = 0 AND node_id = ? AND state IN (" + IN_FLIGHT + ") ORDER BY created_at, task_id")) {
            select.setString(1, nodeId);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getString(1));
                }
            }
        }
        if (!ids.isEmpty()) {
            try (PreparedStatement update = connection.prepareStatement("UPDATE TASKS"
                    + " SET state = ?, finished_at = ?, diagnostic = ?"
                    + " WHERE phase = 0 AND node_id = ? AND state IN (" + IN_FLIGHT + ")")) {
                update.setString(1, TaskState.FAILED.name());
                JournalTime.set(update, 2, now);
                update.setString(3, diagnostic);
                update.setString(4, nodeId);
                update.executeUpdate();
            }
        }
        return ids;
    }

    /**
     * Fails every task an earlier hub process left non-terminal (it stopped while they were in flight).
     * Tasks of {@code currentInstance}, the process running now, are left alone: it still follows them.
     *
     * @return how many tasks it failed
     */
    static int failInFlight(Connection connection, Instant now, String diagnostic, String currentInstance) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement("UPDATE TASKS"
                + " SET state = ?, finished_at = ?, diagnostic = ? WHERE phase = 0 AND state IN (" + IN_FLIGHT + ")"
                + " AND (hub_instance IS NULL OR hub_instance <> ?)")) {
            update.setString(1, TaskState.FAILED.name());
            JournalTime.set(update, 2, now);
            update.setString(3, diagnostic);
            update.setString(4, currentInstance);
            return update.executeUpdate();
        }
    }

    static Optional<TaskRecord> select(Connection connection, String taskId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM TASKS WHERE task_id = ?")) {
            select.setString(1, taskId);
            try (ResultSet rows = select.executeQuery()) {
                return rows.next() ? Optional.of(record(rows)) : Optional.empty();
            }
        }
    }

    /** Tasks matching the query, newest first. */
    static List<TaskRecord> list(Connection connection, TaskQuery query) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS).append(" FROM TASKS");
        List<String> parameters = new ArrayList<>();
        if (query.nodeId() != null) {
            sql.append(" WHERE phase IN (0, 1) AND node_id = ?"); // two probes of the phase/node index
            parameters.add(query.nodeId());
        }
        if (query.state() != null) {
            sql.append(parameters.isEmpty() ? " WHERE" : " AND").append(" state = ?");
            parameters.add(query.state().name());
        }
        sql.append(" ORDER BY created_at DESC, task_id DESC FETCH FIRST ").append(query.limit()).append(" ROWS ONLY");
        try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < parameters.size(); i++) {
                select.setString(i + 1, parameters.get(i));
            }
            List<TaskRecord> records = new ArrayList<>();
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    records.add(record(rows));
                }
            }
            return records;
        }
    }

    private static TaskRecord record(ResultSet rows) throws SQLException {
        int exitCode = rows.getInt("exit_code");
        Integer exit = rows.wasNull() ? null : exitCode;
        byte[] output = rows.getBytes("output_tail");
        long bytes = rows.getLong("output_bytes");
        Long outputBytes = rows.wasNull() ? null : bytes;
        return new TaskRecord(rows.getString("task_id"), rows.getString("node_id"), rows.getString("node_name"),
                rows.getString("kind"), rows.getString("summary"), rows.getBytes("spec"),
                TaskState.valueOf(rows.getString("state")), JournalTime.get(rows, "created_at"),
                JournalTime.get(rows, "dispatched_at"), JournalTime.get(rows, "started_at"),
                JournalTime.get(rows, "finished_at"), exit, rows.getString("diagnostic"),
                output == null ? NO_BYTES : output, rows.getString("program"), outputBytes, rows.getString("output_truncation"));
    }

    private static boolean exists(Connection connection, String taskId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT 1 FROM TASKS WHERE task_id = ?")) {
            select.setString(1, taskId);
            try (ResultSet rows = select.executeQuery()) {
                return rows.next();
            }
        }
    }

    static IllegalStateException noTask(String taskId) {
        return new IllegalStateException("no task " + taskId);
    }

    /** The states a task may move to {@code state} from, quoted for an IN list ("" if none). */
    private static String statesBefore(TaskState state) {
        int rank = rank(state);
        return Arrays.stream(TaskState.values())
                .filter(s -> rank(s) < rank)
                .map(s -> "'" + s.name() + "'")
                .collect(Collectors.joining(", "));
    }

    private static int rank(TaskState state) {
        return switch (state) {
            case QUEUED -> 0;
            case DISPATCHED -> 1;
            case RUNNING -> 2;
            default -> 3;
        };
    }
}
