package dev.meshhub.journal.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.UUID;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.apache.derby.jdbc.EmbeddedDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.task.TaskJournal;

/**
 * The hub's one journal database: embedded Derby in a directory, booted once and shut down once,
 * shared by the {@link DerbyEnrollmentStore} and the {@link DerbyTaskJournal}. Usable without OSGi.
 *
 * <p>Opening boots Derby, creates or migrates the tables ({@link JournalSchema}) and resolves the
 * tasks a crash left in flight: every non-terminal task becomes FAILED with
 * {@link TaskJournal#OUTCOME_UNKNOWN}, in one transaction, before anyone can use the database.
 * Nothing is ever re-run. This happens once per boot, not when a store is replaced on a
 * configuration change.
 *
 * <p>The database owns the journal's read/transaction threads ({@link JournalExecutor}) and the
 * audit trail, which both stores use. It is shared by counting: whoever opens it holds one share and
 * gives it back with {@link #close()}; each store takes a share when it is built and gives it back
 * when it is closed. When the last share is given back, queued work finishes (bounded wait, never
 * interrupting a thread inside JDBC) and then the Derby database is shut down, so a bundle update
 * never leaves it booted by a dead class loader.
 */
public final class JournalDatabase implements AutoCloseable {

    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final String DATABASE_IN_USE = "XSDB6";
    private static final String DATABASE_SHUT_DOWN = "08006";

    private static final Logger LOG = LoggerFactory.getLogger(JournalDatabase.class);

    /** Directories open in this class loader: Derby must boot a database once, and only one owner may shut it down. */
    private static final Set<Path> OPEN_DIRECTORIES = ConcurrentHashMap.newKeySet();

    /** One transaction's work. */
    @FunctionalInterface
    interface Transaction<T> {
        T run(Connection connection) throws SQLException;
    }

    private final Path directory;
    private final Clock clock;
    /** The hub process this database serves; see {@link #open(Path, Clock, int, int, String)}. */
    private final String hubInstance;
    private final EmbeddedDataSource dataSource;
    private final AuditTrail audit = new AuditTrail();
    private final AtomicBoolean openerShareReturned = new AtomicBoolean();
    /** Set once by {@link #open}, before the database is handed out. */
    private volatile JournalExecutor executor;
    /** Guarded by {@code this}; the database shuts down when it reaches 0. */
    private int shares = 1;

    private JournalDatabase(Path directory, Clock clock, String hubInstance) {
        this.directory = directory;
        this.clock = clock;
        this.hubInstance = hubInstance.length() > JournalSchema.MAX_HUB_INSTANCE_LENGTH
                ? hubInstance.substring(0, JournalSchema.MAX_HUB_INSTANCE_LENGTH) : hubInstance;
        this.dataSource = dataSource(directory);
    }

    /**
     * Opens (creating if missing) the journal database in {@code databaseDirectory}: boots Derby,
     * creates or migrates its tables, fails the tasks a crash left in flight, and starts the journal
     * threads. Blocks while Derby boots. The caller holds one share and must {@link #close()} it.
     *
     * @param databaseDirectory the Derby database directory; must not exist, be empty, or hold a journal
     * @param clock             the time source for records
     * @param dbThreads         number of journal threads (transactions and reads), at least 1
     * @param queueCapacity     how much work may wait for a journal thread, at least 1
     * @throws IllegalArgumentException if an argument is out of range
     * @throws IllegalStateException    if the database cannot be opened, in particular when another
     *                                  process has booted it or it is already open in this JVM
     */
    public static JournalDatabase open(Path databaseDirectory, Clock clock, int dbThreads, int queueCapacity) {
        return open(databaseDirectory, clock, dbThreads, queueCapacity, UUID.randomUUID().toString());
    }

    /**
     * Opens the database for the hub process {@code hubInstance} (in OSGi, the framework's UUID, new at
     * every start): tasks it creates carry it, and opening fails only the in-flight tasks of other
     * instances, so the journal restarting under a running hub never fails tasks that hub still follows.
     *
     * @see #open(Path, Clock, int, int)
     */
    public static JournalDatabase open(Path databaseDirectory, Clock clock, int dbThreads, int queueCapacity, String hubInstance) {
        Objects.requireNonNull(databaseDirectory, "databaseDirectory");
        Objects.requireNonNull(hubInstance, "hubInstance");
        Objects.requireNonNull(clock, "clock");
        if (dbThreads < 1) {
            throw new IllegalArgumentException("dbThreads must be at least 1, got " + dbThreads);
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
        }
        Path directory = databaseDirectory.toAbsolutePath().normalize();
        if (directory.toString().indexOf(';') >= 0) {
            // Derby would read what follows a ';' as connection attributes.
            throw new IllegalArgumentException("databaseDirectory must not contain ';': " + directory);
        }
        if (!OPEN_DIRECTORIES.add(directory)) {
            throw logged(new IllegalStateException("database directory " + directory
                    + " is already open in this JVM; close that journal first or point databaseDirectory elsewhere"));
        }
        JournalDatabase database = new JournalDatabase(directory, clock, hubInstance);
        boolean opened = false;
        try {
            database.boot();
            try {
                database.executor = new JournalExecutor(dbThreads, queueCapacity);
            } finally {
                if (database.executor == null) {
                    database.shutdownDatabase();
                }
            }
            opened = true;
        } catch (IllegalStateException e) {
            throw logged(e);
        } finally {
            if (!opened) {
                OPEN_DIRECTORIES.remove(directory);
            }
        }
        LOG.info("journal database opened in {} with {} thread(s), queue of {}", directory, dbThreads, queueCapacity);
        return database;
    }

    /** The hub process this database serves. */
    String hubInstance() {
        return hubInstance;
    }

    /** The absolute database directory. */
    public Path directory() {
        return directory;
    }

    /**
     * Gives back the opener's share (idempotent). The database shuts down once every store built on
     * it is closed too.
     */
    @Override
    public void close() {
        if (openerShareReturned.compareAndSet(false, true)) {
            release();
        }
    }

    // ---- for the stores ----

    /** A store takes a share; it must {@link #release()} it exactly once. */
    synchronized void retain() {
        if (shares == 0) {
            throw new IllegalStateException("journal database " + directory + " is closed");
        }
        shares++;
    }

    /** Gives a share back; the last one finishes queued work and shuts the database down. */
    void release() {
        synchronized (this) {
            if (shares == 0) {
                throw new IllegalStateException("journal database " + directory + " was released once too often");
            }
            if (--shares > 0) {
                return;
            }
        }
        try {
            if (!executor.close(CLOSE_WAIT)) {
                LOG.warn("journal threads still busy after {}; shutting the database down under them", CLOSE_WAIT);
            }
        } finally {
            shutdownDatabase();
            OPEN_DIRECTORIES.remove(directory);
            LOG.info("journal closed ({})", directory);
        }
    }

    /** A connection in READ_COMMITTED, auto-commit on; the caller closes it. */
    Connection connect() throws SQLException {
        Connection connection = dataSource.getConnection();
        connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        return connection;
    }

    /** Runs {@code work} in one transaction on a fresh connection. */
    <T> T inTransaction(Transaction<T> work) throws SQLException {
        try (Connection connection = connect()) {
            return inTransaction(connection, work);
        }
    }

    /** Commits what {@code work} did, or rolls it back if it throws (Derby will not close a connection mid-transaction). */
    static <T> T inTransaction(Connection connection, Transaction<T> work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            T result = work.run(connection);
            connection.commit();
            return result;
        } catch (Throwable failure) {
            try {
                connection.rollback();
            } catch (SQLException rollbackFailure) {
                failure.addSuppressed(rollbackFailure);
            }
            throw failure;
        }
    }

    /** The journal's transaction and read threads. */
    JournalExecutor executor() {
        return executor;
    }

    /** The audit trail (one id sequence for every writer of {@code AUDIT}). */
    AuditTrail audit() {
        return audit;
    }

    // ---- opening and shutting down ----

    private void boot() {
        prepareDirectory();
        routeDerbyLog();
        EmbeddedDataSource creating = dataSource(directory);
        creating.setCreateDatabase("create");
        Connection connection;
        try {
            connection = creating.getConnection();
        } catch (SQLException e) {
            throw bootFailure(e);
        }
        boolean ready = false;
        try (connection) {
            connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            int found = inTransaction(connection, c -> JournalSchema.ensure(c, now()));
            if (found == 0) {
                LOG.info("journal database created in {} (schema version {})", directory, JournalSchema.VERSION);
            } else if (found < JournalSchema.VERSION) {
                LOG.info("journal database in {} migrated from schema version {} to {}",
                        directory, found, JournalSchema.VERSION);
            }
            Instant now = now();
            int inFlight = inTransaction(connection, c -> TaskTable.failInFlight(c, now, TaskJournal.OUTCOME_UNKNOWN, hubInstance));
            if (inFlight > 0) {
                LOG.warn("{} task(s) were in flight when the hub last stopped; marked FAILED ({}), none re-run",
                        inFlight, TaskJournal.OUTCOME_UNKNOWN);
            }
            inTransaction(connection, c -> {
                audit.load(c);
                return null;
            });
            ready = true;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the journal database in " + directory
                    + ": SQLState " + e.getSQLState() + " (" + e.getMessage() + ")", e);
        } finally {
            if (!ready) {
                shutdownDatabase();
            }
        }
    }

    private void prepareDirectory() {
        try {
            Path parent = directory.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (Files.exists(directory) && !Files.isDirectory(directory)) {
                throw new IllegalStateException("database directory " + directory + " is not a directory");
            }
            // Derby refuses to create a database in an existing directory, even an empty one.
            if (Files.isDirectory(directory)) {
                try (Stream<Path> entries = Files.list(directory)) {
                    if (entries.findAny().isEmpty()) {
                        Files.delete(directory);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare database directory " + directory + ": " + e, e);
        }
    }

    /**
     * Derby writes derby.log into the working directory unless told otherwise; put it beside the
     * database instead, unless whoever started the JVM chose a place.
     */
    private void routeDerbyLog() {
        Path parent = directory.getParent();
        if (parent != null && System.getProperty("derby.stream.error.file") == null
                && System.getProperty("derby.stream.error.field") == null
                && System.getProperty("derby.stream.error.method") == null) {
            System.setProperty("derby.stream.error.file", parent.resolve("derby.log").toString());
        }
    }

    private IllegalStateException bootFailure(SQLException e) {
        if (hasSqlState(e, DATABASE_IN_USE)) {
            return new IllegalStateException("database directory " + directory + " is in use by another meshhub"
                    + " (or Derby) process; stop it or point databaseDirectory elsewhere", e);
        }
        return new IllegalStateException("cannot open the journal database in " + directory
                + ": SQLState " + e.getSQLState() + " (" + e.getMessage() + ")", e);
    }

    /** Whether {@code state} appears anywhere in the chain of next exceptions and causes. */
    private static boolean hasSqlState(Throwable failure, String state) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Throwable> pending = new ArrayDeque<>();
        pending.add(failure);
        while (!pending.isEmpty()) {
            Throwable next = pending.poll();
            if (!seen.add(next)) {
                continue;
            }
            if (next instanceof SQLException sql) {
                if (state.equals(sql.getSQLState())) {
                    return true;
                }
                if (sql.getNextException() != null) {
                    pending.add(sql.getNextException());
                }
            }
            if (next.getCause() != null) {
                pending.add(next.getCause());
            }
        }
        return false;
    }

    /** The one place the database is shut down. */
    private void shutdownDatabase() {
        EmbeddedDataSource shutdown = dataSource(directory);
        shutdown.setShutdownDatabase("shutdown");
        try (Connection ignored = shutdown.getConnection()) {
            LOG.warn("Derby did not confirm the shutdown of {}", directory);
        } catch (SQLException e) {
            if (DATABASE_SHUT_DOWN.equals(e.getSQLState())) {
                LOG.debug("journal database {} shut down", directory);
            } else {
                LOG.warn("shutting down the journal database {} failed (SQLState {})", directory, e.getSQLState(), e);
            }
        }
    }

    private static EmbeddedDataSource dataSource(Path directory) {
        EmbeddedDataSource dataSource = new EmbeddedDataSource();
        dataSource.setDatabaseName(directory.toString());
        return dataSource;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static IllegalStateException logged(IllegalStateException e) {
        LOG.error("{}", e.getMessage());
        LOG.debug("journal open failure", e);
        return e;
    }
}
