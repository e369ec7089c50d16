package dev.meshhub.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;

/**
 * The "sync" of row 1's journal-on goal, measured in the same run: embedded Derby (the journal's
 * version, default settings like the journal's) in a fresh database beside the hubs' data on the
 * same disk; one one-row insert and its commit, timed together. A Derby commit waits for its log
 * sync, so this is what one durable journal write costs at the least.
 */
final class DerbyCommitBaseline implements AutoCloseable {

    private final Path directory;

    private DerbyCommitBaseline(Path directory) {
        this.directory = directory;
    }

    static DerbyCommitBaseline in(Path directory) {
        System.setProperty("derby.stream.error.file", directory.resolve("derby.log").toString());
        return new DerbyCommitBaseline(directory);
    }

    /** One round in a database of its own: {@code warmup} commits unrecorded, then {@code count} (nanoseconds). */
    Histogram round(int round, int warmup, int count) throws SQLException {
        String database = directory.resolve("commit-" + round).toString();
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        try (Connection connection = DriverManager.getConnection("jdbc:derby:" + database + ";create=true")) {
            try (Statement ddl = connection.createStatement()) {
                ddl.execute("CREATE TABLE BENCH_COMMIT (id BIGINT NOT NULL PRIMARY KEY, payload VARCHAR(64) NOT NULL)");
            }
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO BENCH_COMMIT VALUES (?, ?)")) {
                for (int i = 0; i < warmup + count; i++) {
                    long started = System.nanoTime();
                    insert.setLong(1, i);
                    insert.setString(2, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
                    insert.executeUpdate();
                    connection.commit();
                    long ended = System.nanoTime();
                    if (i >= warmup) {
                        latency.recordValue(ended - started);
                    }
                }
            }
        }
        shutdown("jdbc:derby:" + database + ";shutdown=true");
        return latency;
    }

    @Override
    public void close() {
        shutdown("jdbc:derby:;shutdown=true");
    }

    /** Derby answers a successful shutdown with an exception (08006 for a database, XJ015 for the engine). */
    private static void shutdown(String url) {
        try {
            DriverManager.getConnection(url).close();
        } catch (SQLException expected) {
            // Shut down.
        }
    }
}
