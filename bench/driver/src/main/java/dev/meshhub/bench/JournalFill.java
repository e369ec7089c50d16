package dev.meshhub.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Calendar;
import java.util.GregorianCalendar;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.TimeZone;
import java.util.function.LongConsumer;

import dev.meshhub.proto.v1.ArgvCommand;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.TaskAssignment;

/**
 * Writes finished tasks and audit rows straight into a stopped hub's journal (embedded Derby, the
 * journal's own version), as the hub would have written them: the TASKS and AUDIT columns of schema
 * version 6 ({@code JournalSchema}; Derby computes the generated {@code phase}), ids in the hub's shapes ({@code t-} and 16 hex digits; audit ids
 * above the highest there), the spec as the dispatcher journals it (a {@code TaskAssignment} with its
 * {@code CommandTask}, secrets by name only), times in UTC like {@code JournalTime}, node ids and names of
 * nodes enrolled in that journal, states SUCCEEDED or FAILED with the diagnostic the node agent writes.
 * The hub must not be running: embedded Derby lets one process open a database.
 */
final class JournalFill {

    /** Rows per transaction (each under a table lock, so no row locks pile up). */
    static final int BATCH = 10_000;
    private static final String[][] COMMANDS = {
        {"df", "-h", "/var"}, {"du", "-sh", "logs"}, {"uname", "-a"}, {"cat", "etc/app.properties"},
        {"tail", "-n", "200", "logs/app.log"}, {"ls", "-la", "data/out"}, {"wc", "-l", "data/out/report.csv"},
        {"uptime"}, {"head", "-c", "4096", "logs/gc.log"}, {"id"},
    };
    private static final String[] AUDIT_ACTIONS = {"invite.create", "node.enroll", "policy.set", "node.revoke"};

    /** What was written and how long it took. */
    record Filled(long tasks, long auditRows, long nanos, long specBytes, long outputBytes, long tasksInTable, long auditInTable) {
    }

    /** One enrolled node the old tasks ran on. */
    record Node(String id, String name) {
    }

    private final Path database;
    private final Random random = new Random(20261204L);
    private final Calendar utc = new GregorianCalendar(TimeZone.getTimeZone("UTC"));

    JournalFill(Path database) {
        this.database = database;
    }

    /**
     * Inserts {@code tasks} finished tasks created between {@code oldest} and {@code newest} (in order,
     * like a journal that grew over that time) and {@code auditRows} audit rows at {@code auditAt} and
     * before, then counts both tables.
     */
    Filled fill(List<Node> nodes, long tasks, Instant oldest, Instant newest, long auditRows, Instant auditAt, LongConsumer progress)
            throws SQLException {
        long started = System.nanoTime();
        long[] bytes = new long[2];
        try (Connection connection = DriverManager.getConnection("jdbc:derby:" + database)) {
            connection.setAutoCommit(false);
            // Another hub process (a JVM of its own) wrote these ids; this hub instance never ran.
            String hubInstance = "5f0c2a9e-1b7d-4c1e-9a63-" + HexFormat.of().formatHex(bytes(6));
            long span = Duration.between(oldest, newest).toMillis();
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO TASKS (task_id, node_id, node_name, kind,"
                    + " summary, spec, state, created_at, dispatched_at, started_at, finished_at, exit_code, diagnostic,"
                    + " output_tail, hub_instance, program) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (long done = 0; done < tasks; ) {
                    lockTable(connection, "TASKS");
                    long end = Math.min(tasks, done + BATCH);
                    for (long i = done; i < end; i++) {
                        Instant created = oldest.plusMillis(span * i / Math.max(1, tasks - 1));
                        addTask(insert, nodes.get((int) (i % nodes.size())), created, hubInstance, bytes);
                    }
                    insert.executeBatch();
                    connection.commit();
                    done = end;
                    progress.accept(done);
                }
            }
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO AUDIT (id, \"AT\", actor, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
                long id = single(connection, "SELECT COALESCE(MAX(id), 0) FROM AUDIT");
                for (long done = 0; done < auditRows; ) {
                    lockTable(connection, "AUDIT");
                    long end = Math.min(auditRows, done + BATCH);
                    for (long i = done; i < end; i++) {
                        // Spread over the year before auditAt, oldest first.
                        Instant at = auditAt.minusSeconds((auditRows - i) * 315L);
                        addAudit(insert, ++id, at, nodes.get((int) (i % nodes.size())));
                    }
                    insert.executeBatch();
                    connection.commit();
                    done = end;
                }
            }
            long elapsed = System.nanoTime() - started;
            long inTasks = single(connection, "SELECT COUNT(*) FROM TASKS");
            long inAudit = single(connection, "SELECT COUNT(*) FROM AUDIT");
            connection.commit();
            return new Filled(tasks, auditRows, elapsed, bytes[0], bytes[1], inTasks, inAudit);
        } finally {
            shutdown();
        }
    }

    /** Counts rows in a stopped hub's journal: {@code {tasks, tasks created before cutoff, audit rows, audit rows before auditCutoff}}. */
    long[] count(Instant cutoff, Instant auditCutoff) throws SQLException {
        try (Connection connection = DriverManager.getConnection("jdbc:derby:" + database)) {
            long[] counts = {single(connection, "SELECT COUNT(*) FROM TASKS"), 0, single(connection, "SELECT COUNT(*) FROM AUDIT"), 0};
            try (PreparedStatement old = connection.prepareStatement("SELECT COUNT(*) FROM TASKS WHERE created_at < ?")) {
                old.setTimestamp(1, Timestamp.from(cutoff), utc);
                counts[1] = single(old);
            }
            try (PreparedStatement old = connection.prepareStatement("SELECT COUNT(*) FROM AUDIT WHERE \"AT\" < ?")) {
                old.setTimestamp(1, Timestamp.from(auditCutoff), utc);
                counts[3] = single(old);
            }
            return counts;
        } finally {
            shutdown();
        }
    }

    private void addTask(PreparedStatement insert, Node node, Instant created, String hubInstance, long[] bytes) throws SQLException {
        String taskId = "t-" + HexFormat.of().formatHex(bytes(8));
        String[] argv = COMMANDS[random.nextInt(COMMANDS.length)];
        CommandTask.Builder command = CommandTask.newBuilder()
                .setArgv(ArgvCommand.newBuilder().addAllArgs(List.of(argv)))
                .setWorkingDirectory(random.nextInt(4) == 0 ? "" : "jobs/nightly-" + (1 + random.nextInt(40)))
                .putEnvironment("LANG", "C.UTF-8")
                .putEnvironment("TZ", "UTC")
                .putEnvironment("JOB_ID", "job-" + HexFormat.of().formatHex(bytes(12)))
                .putEnvironment("JOB_NOTE", text(60 + random.nextInt(140)))
                .setTimeoutMs(600_000)
                .setKillGraceMs(5_000);
        if (random.nextInt(10) == 0) {
            // Kept by name only, as the dispatcher journals a secret variable.
            command.putSecretEnvironment("DEPLOY_TOKEN", "");
        }
        byte[] spec = TaskAssignment.newBuilder().setTaskId(taskId).setCommand(command).build().toByteArray();
        boolean failed = random.nextInt(10) == 0;
        int exit = failed ? 1 + random.nextInt(2) : 0;
        String program = "/usr/bin/" + argv[0];
        byte[] output = text(150 + random.nextInt(450)).getBytes(StandardCharsets.UTF_8);
        Instant dispatched = created.plusMillis(1 + random.nextInt(3));
        Instant running = dispatched.plusMillis(2 + random.nextInt(20));
        Instant finished = running.plusMillis(20 + random.nextInt(3000));
        insert.setString(1, taskId);
        insert.setString(2, node.id());
        insert.setString(3, node.name());
        insert.setString(4, "command");
        insert.setString(5, String.join(" ", argv));
        insert.setBytes(6, spec);
        insert.setString(7, failed ? "FAILED" : "SUCCEEDED");
        insert.setTimestamp(8, Timestamp.from(created), utc);
        insert.setTimestamp(9, Timestamp.from(dispatched), utc);
        insert.setTimestamp(10, Timestamp.from(running), utc);
        insert.setTimestamp(11, Timestamp.from(finished), utc);
        insert.setInt(12, exit);
        insert.setString(13, failed ? "'" + argv[0] + "' exited with code " + exit : "");
        insert.setBytes(14, output);
        insert.setString(15, hubInstance);
        insert.setString(16, program);
        insert.addBatch();
        bytes[0] += spec.length;
        bytes[1] += output.length;
    }

    private void addAudit(PreparedStatement insert, long id, Instant at, Node node) throws SQLException {
        String action = AUDIT_ACTIONS[random.nextInt(AUDIT_ACTIONS.length)];
        String subject;
        String detail;
        switch (action) {
            case "invite.create" -> {
                subject = HexFormat.of().formatHex(bytes(8));
                detail = "expires " + at.plusSeconds(3600) + "; note: rack " + (1 + random.nextInt(20));
            }
            case "node.enroll" -> {
                subject = node.id();
                detail = "name=" + node.name() + " invite=" + HexFormat.of().formatHex(bytes(8)) + " from=10.0." + random.nextInt(256)
                        + "." + random.nextInt(256) + ":" + (30000 + random.nextInt(30000));
            }
            case "policy.set" -> {
                subject = node.id();
                detail = "mode=STRICT name=" + node.name();
            }
            default -> {
                subject = node.id();
                detail = "name=" + node.name();
            }
        }
        insert.setLong(1, id);
        insert.setTimestamp(2, Timestamp.from(at), utc);
        insert.setString(3, "admin");
        insert.setString(4, action);
        insert.setString(5, subject);
        insert.setString(6, detail);
        insert.addBatch();
    }

    /** Log-like text: words and numbers, lines of about 60 characters. */
    private String text(int length) {
        String[] words = {"ok", "checked", "files", "bytes", "done", "warning", "retry", "GiB", "used", "free", "report", "rows"};
        StringBuilder text = new StringBuilder(length + 16);
        int line = 0;
        while (text.length() < length) {
            String word = random.nextInt(3) == 0 ? Integer.toString(random.nextInt(100_000)) : words[random.nextInt(words.length)];
            text.append(word);
            line += word.length() + 1;
            if (line > 60) {
                text.append('\n');
                line = 0;
            } else {
                text.append(' ');
            }
        }
        return text.substring(0, length);
    }

    private byte[] bytes(int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }

    private static void lockTable(Connection connection, String table) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("LOCK TABLE " + table + " IN EXCLUSIVE MODE");
        }
    }

    private static long single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static long single(PreparedStatement query) throws SQLException {
        try (ResultSet rows = query.executeQuery()) {
            rows.next();
            return rows.getLong(1);
        }
    }

    /** Shuts the database down so that the hub can boot it (Derby answers with SQLState 08006). */
    private void shutdown() {
        try {
            DriverManager.getConnection("jdbc:derby:" + database + ";shutdown=true").close();
        } catch (SQLException expected) {
            // Shut down.
        }
    }
}
