package dev.meshhub.journal.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import org.apache.derby.jdbc.EmbeddedDataSource;
import org.junit.rules.ExternalResource;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;
import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.task.NewTask;
import dev.meshhub.testing.MutableClock;

/**
 * Shared setup for journal tests: a temporary database directory, a hand-moved clock, databases and
 * stores that are closed after each test (stores first, the database last), and direct SQL access to
 * check what reached the database.
 */
final class JournalFixture extends ExternalResource {

    /** Generous bound on waiting for a stage; tests finish in milliseconds when things work. */
    static final long WAIT_SECONDS = 60;
    static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    private final TemporaryFolder folder = new TemporaryFolder();
    /** Everything opened, closed in reverse order after the test (each close is idempotent). */
    private final List<AutoCloseable> opened = new ArrayList<>();
    final MutableClock clock = new MutableClock(START);
    Path directory;

    @Override
    protected void before() throws Throwable {
        folder.create();
        directory = folder.getRoot().toPath().resolve("journal");
    }

    @Override
    protected void after() {
        try {
            closeAll();
        } finally {
            folder.delete();
        }
    }

    Path root() {
        return folder.getRoot().toPath();
    }

    DerbyEnrollmentStore open() {
        return open(2, 1024);
    }

    DerbyEnrollmentStore open(int threads, int queueCapacity) {
        DerbyEnrollmentStore store = new DerbyEnrollmentStore(directory, clock, threads, queueCapacity);
        opened.add(store);
        return store;
    }

    /** Opens the shared journal database (2 threads, queue of 1024); closed after the test. */
    JournalDatabase openDatabase() {
        JournalDatabase database = JournalDatabase.open(directory, clock, 2, 1024);
        opened.add(database);
        return database;
    }

    /** Opens the shared journal database for the hub process {@code hubInstance}; closed after the test. */
    JournalDatabase openDatabase(String hubInstance) {
        JournalDatabase database = JournalDatabase.open(directory, clock, 2, 1024, hubInstance);
        opened.add(database);
        return database;
    }

    /** Closes every task journal, store and database opened so far, stores first. */
    void closeAll() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                throw new AssertionError("closing " + opened.get(i) + " failed: " + e, e);
            }
        }
        opened.clear();
    }

    /** A task journal on {@code database}; closed after the test, before the database. */
    DerbyTaskJournal openTasks(JournalDatabase database, TaskJournalSettings settings) {
        DerbyTaskJournal tasks = new DerbyTaskJournal(database, clock, settings);
        opened.add(tasks);
        return tasks;
    }

    /** A task journal on a database of its own, with default settings. */
    DerbyTaskJournal openTasks() {
        return openTasks(TaskJournalSettings.DEFAULTS);
    }

    /** A task journal on a database of its own. */
    DerbyTaskJournal openTasks(TaskJournalSettings settings) {
        return openTasks(openDatabase(), settings);
    }

    /** An enrollment store on {@code database}; closed after the test, before the database. */
    DerbyEnrollmentStore openEnrollment(JournalDatabase database) {
        DerbyEnrollmentStore store = new DerbyEnrollmentStore(database, clock);
        opened.add(store);
        return store;
    }

    /** A small command task for {@code nodeId}. */
    static NewTask newTask(String taskId, String nodeId) {
        return new NewTask(taskId, nodeId, "name-" + nodeId, "command", "echo " + taskId,
                ("spec of " + taskId).getBytes(StandardCharsets.UTF_8));
    }

    IssuedInvite invite(DerbyEnrollmentStore store) {
        return await(store.createInvite(null, "test"));
    }

    Instant later() {
        return clock.peek().plus(Duration.ofMinutes(5));
    }

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("stage did not complete: " + e, e);
        }
    }

    /** The failure the stage completes with; fails the test if it succeeds. */
    static EnrollmentException failure(CompletionStage<?> stage) {
        return failure(stage, EnrollmentException.class);
    }

    /** The {@link IllegalStateException} the stage completes with (the task journal's failures). */
    static IllegalStateException stateFailure(CompletionStage<?> stage) {
        return failure(stage, IllegalStateException.class);
    }

    /** The failure, of the given type, the stage completes with; fails the test otherwise. */
    static <X extends Throwable> X failure(CompletionStage<?> stage, Class<X> type) {
        try {
            Object value = stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + value);
        } catch (ExecutionException e) {
            assertTrue("expected " + type.getSimpleName() + ", got " + e.getCause(), type.isInstance(e.getCause()));
            return type.cast(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("stage did not complete: " + e, e);
        }
    }

    /** The {@link IllegalStateException} of a stage that must already have failed when it is returned. */
    static IllegalStateException stateFailedAlready(CompletionStage<?> stage) {
        assertTrue("stage should have failed at once", stage.toCompletableFuture().isCompletedExceptionally());
        return stateFailure(stage);
    }

    static EnrollmentException failure(CompletionStage<?> stage, Reason reason) {
        EnrollmentException failure = failure(stage);
        assertEquals(failure.getMessage(), reason, failure.reason());
        return failure;
    }

    /** The failure of a stage that must already be complete when it is returned. */
    static EnrollmentException failedAlready(CompletionStage<?> stage, Reason reason) {
        assertTrue("stage should have failed at once", stage.toCompletableFuture().isCompletedExceptionally());
        return failure(stage, reason);
    }

    /** Runs a query with a single numeric result on the store's database (the store must be open). */
    long count(String sql, Object... parameters) {
        String value = queryString(sql, parameters);
        assertNotNull(sql, value);
        return Long.parseLong(value.trim());
    }

    /** The first column of the first row, or null. */
    String queryString(String sql, Object... parameters) {
        EmbeddedDataSource dataSource = new EmbeddedDataSource();
        dataSource.setDatabaseName(directory.toAbsolutePath().normalize().toString());
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? rows.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new AssertionError("query failed: " + sql + ": " + e, e);
        }
    }

    /**
     * Occupies {@code threads} journal threads until the returned latch is counted down, using only
     * the public API: a callback on a stage runs on the thread that completes it, a journal thread,
     * unless the stage completed before the callback was attached (then it runs here; try again).
     */
    static CountDownLatch occupyJournalThreads(DerbyEnrollmentStore store, int threads) throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        for (int occupied = 0; occupied < threads; ) {
            CountDownLatch holding = new CountDownLatch(1);
            AtomicBoolean ranHere = new AtomicBoolean();
            Thread caller = Thread.currentThread();
            store.createInvite(null, "blocker").thenRun(() -> {
                if (Thread.currentThread() == caller) {
                    ranHere.set(true);
                    return;
                }
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            if (ranHere.get()) {
                continue;
            }
            if (!holding.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                fail("no journal thread picked up the blocking task");
            }
            occupied++;
        }
        return release;
    }

    /**
     * Holds the task journal's writer thread until the returned latch is counted down, using only the
     * public API: a callback on a stage runs on the thread that completes it, the writer, unless the
     * stage completed before the callback was attached (then it runs here; try again). Writes
     * submitted meanwhile wait in the queue and are taken as one batch after the release.
     */
    static CountDownLatch occupyWriter(DerbyTaskJournal tasks) throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        while (true) {
            CountDownLatch holding = new CountDownLatch(1);
            AtomicBoolean ranHere = new AtomicBoolean();
            Thread caller = Thread.currentThread();
            tasks.record("test", "test.block", "writer", "").thenRun(() -> {
                if (Thread.currentThread() == caller) {
                    ranHere.set(true);
                    return;
                }
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            if (ranHere.get()) {
                continue;
            }
            if (!holding.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                fail("the writer did not pick up the blocking write");
            }
            return release;
        }
    }

    static List<String> journalThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .filter(name -> name.startsWith(JournalExecutor.THREAD_NAME_PREFIX))
                .collect(Collectors.toList());
    }
}
