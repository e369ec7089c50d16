package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that makes the journal's writes durable in groups: callers put writes on a bounded
 * queue (never waiting: a full queue fails the write at once), the writer takes everything waiting,
 * up to {@code maxBatch}, applies it in ONE transaction and commits ONCE, then completes every
 * caller's stage from its own thread. Under load a commit (Derby's log sync) is shared by hundreds
 * of writes; when idle a write is committed alone, at once, except a write no caller waits on (a
 * task's state change, its output): those wait up to {@link #LINGER} for one that a caller does wait on
 * (a new task) and share its commit, so that the new task's commit is not queued behind theirs.
 *
 * <p>Each write in a batch runs under its own savepoint: a write that is refused (unknown task,
 * duplicate id) or hits a statement error is rolled back to its savepoint and fails alone, the rest
 * of the batch commits. If an error takes the whole transaction with it (Derby rolls back the
 * transaction on a deadlock or lock timeout), the batch is run again without that write. Only a
 * failed commit fails the whole batch, since then nothing in it is durable.
 *
 * <p>{@link #close(Duration)} stops accepting writes, lets the writer drain the queue (bounded
 * wait), and never interrupts it: Derby closes a connection whose thread is interrupted inside JDBC.
 */
final class GroupCommitWriter {

    /**
     * How long writes no caller waits on wait for company (see the class comment). A dispatcher's next
     * task follows the previous one's end within a fraction of this (benchmark 1).
     */
    static final Duration LINGER = Duration.ofMillis(2);

    /** What a task's output size as its log ended is written as ({@link JournalWrite#what()}). */
    static final String OUTPUT_END = "task.outputEnd";

    /** The writer thread's name. */
    static final String THREAD_NAME = JournalExecutor.THREAD_NAME_PREFIX + "writer";

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

    /** Opens the writer's connection (auto-commit off). */
    @FunctionalInterface
    interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /** Turns the writes taken from the queue into the units applied, e.g. merging appends to one task. */
    @FunctionalInterface
    interface BatchPlanner {
        List<JournalWrite<?>> plan(List<JournalWrite<?>> taken);
    }

    private final ConnectionSource connections;
    private final Clock clock;
    private final int capacity;
    private final int maxBatch;
    private final Duration linger;
    private final BatchPlanner planner;
    private final AtomicLong commits = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder writesCommitted = new java.util.concurrent.atomic.LongAdder();
    private final dev.meshhub.api.stats.DistributionRecorder commitSeconds =
            new dev.meshhub.api.stats.DistributionRecorder(dev.meshhub.api.stats.DistributionRecorder.SECONDS);
    private final dev.meshhub.api.stats.DistributionRecorder writesPerCommit =
            new dev.meshhub.api.stats.DistributionRecorder(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024);
    /** Writes taken by the writer and not yet completed. */
    private volatile int inFlight;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition waiting = lock.newCondition();
    /** Guarded by {@link #lock}. */
    private final ArrayDeque<JournalWrite<?>> queue = new ArrayDeque<>();
    /** Guarded by {@link #lock}. */
    private boolean stopped;
    /** Writes in the queue whose caller waits for them (see {@link #deferrable}); guarded by {@code lock}. */
    private int awaitedQueued;
    /** Guarded by {@link #lock}. */
    private boolean overloaded;
    /** Set when close gave up waiting: the database may be shut down, so the writer must not reconnect. */
    private volatile boolean abandoned;
    private final Thread thread;
    /** Used by the writer thread only. */
    private Connection connection;

    private GroupCommitWriter(ConnectionSource connections, Clock clock, int capacity, int maxBatch,
                              BatchPlanner planner, Duration linger) {
        this.linger = linger;
        this.connections = connections;
        this.clock = clock;
        this.capacity = capacity;
        this.maxBatch = maxBatch;
        this.planner = planner;
        this.thread = new Thread(this::run, THREAD_NAME);
        // Daemon: an orderly close() ends it; a launcher that forgets to must not hang the JVM.
        this.thread.setDaemon(true);
    }

    /** Starts a writer thread. */
    static GroupCommitWriter start(ConnectionSource connections, Clock clock, int capacity, int maxBatch,
                                   BatchPlanner planner) {
        return start(connections, clock, capacity, maxBatch, planner, LINGER);
    }

    /** As the other {@code start}, deferrable writes lingering up to {@code linger} (tests). */
    static GroupCommitWriter start(ConnectionSource connections, Clock clock, int capacity, int maxBatch,
                                   BatchPlanner planner, Duration linger) {
        GroupCommitWriter writer = new GroupCommitWriter(connections, clock, capacity, maxBatch, planner, linger);
        writer.thread.start();
        return writer;
    }

    /**
     * How many waiting writes {@code write} may find and still be queued. A task's state changes, and
     * the size of its output as its log ended, are never refused (their number is bounded by the tasks
     * in flight, which dispatch already bounds): a flood of output can never crowd them out. Output
     * gets three quarters of the queue, so new work (tasks, audit rows) still finds room while output
     * floods; past the rest, new work is refused with a clear "overloaded" until the journal catches up.
     */
    private int limitFor(JournalWrite<?> write) {
        return switch (write.what()) {
            case "task.transition", "task.failNode", OUTPUT_END -> Integer.MAX_VALUE;
            case "task.output" -> Math.max(1, capacity * 3 / 4);
            default -> capacity;
        };
    }

    /**
     * Queues a write. Never waits: when its share of the queue is full (see {@link #limitFor}) or the
     * writer stopped, the returned stage has already failed.
     */
    <T> CompletionStage<T> submit(JournalWrite<T> write) {
        boolean accepted;
        boolean becameFull = false;
        boolean drained = false;
        lock.lock();
        try {
            if (stopped) {
                return JournalExecutor.failed(new IllegalStateException(JournalExecutor.STOPPED_MESSAGE));
            }
            accepted = queue.size() < limitFor(write);
            if (accepted) {
                drained = overloaded;
                overloaded = false;
                queue.add(write);
                if (!deferrable(write)) {
                    awaitedQueued++;
                }
                waiting.signal();
            } else {
                becameFull = !overloaded;
                overloaded = true;
            }
        } finally {
            lock.unlock();
        }
        if (becameFull) {
            LOG.warn("journal write queue is full ({} waiting); refusing writes until it drains", capacity);
        }
        if (drained) {
            LOG.info("journal write queue accepts writes again");
        }
        return accepted ? write.stage()
                : JournalExecutor.failed(new IllegalStateException(JournalExecutor.OVERLOADED_MESSAGE));
    }

    /** Writes accepted and not yet completed: queued plus the batch being committed. */
    long backlog() {
        int queued;
        lock.lock();
        try {
            queued = queue.size();
        } finally {
            lock.unlock();
        }
        return (long) queued + inFlight;
    }

    /** Commits so far: one per batch that reached the database. */
    /** Commits, writes in them, and how long each commit took and how many writes it carried, since this writer started. */
    dev.meshhub.api.stats.JournalStats stats() {
        return new dev.meshhub.api.stats.JournalStats(commits.get(), writesCommitted.sum(), commitSeconds.snapshot(),
                writesPerCommit.snapshot());
    }

    long commits() {
        return commits.get();
    }

    /**
     * Stops accepting writes and waits up to {@code wait} for the writer to apply and commit every
     * queued write. Never interrupts the writer. Writes still queued when the wait ends fail with
     * "journal is stopped".
     *
     * @return whether the writer finished within the wait
     */
    boolean close(Duration wait) {
        lock.lock();
        try {
            stopped = true;
            waiting.signalAll();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() == thread) {
            // Closed from a caller's callback: it cannot wait for itself. The database may be shut
            // down next, so the writer must not reconnect; what is queued fails.
            abandoned = true;
            LOG.warn("journal closed from its own writer thread; queued writes are not waited for");
            return false;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        boolean interrupted = false;
        while (thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                // Keep waiting: giving up early would shut Derby down under the writer.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            return true;
        }
        List<JournalWrite<?>> left;
        lock.lock();
        try {
            abandoned = true;
            left = new ArrayList<>(queue);
            queue.clear();
            awaitedQueued = 0;
        } finally {
            lock.unlock();
        }
        LOG.warn("journal writer did not finish within {}; failing {} queued write(s)", wait, left.size());
        for (JournalWrite<?> write : left) {
            write.fail(new IllegalStateException(JournalExecutor.STOPPED_MESSAGE));
        }
        return false;
    }

    // ---- the writer thread ----

    private void run() {
        try {
            for (List<JournalWrite<?>> taken = take(); !taken.isEmpty(); taken = take()) {
                inFlight = taken.size();
                try {
                    applyBatch(planner.plan(taken));
                } catch (RuntimeException e) {
                    LOG.error("journal writer failed on a batch of {} write(s)", taken.size(), e);
                    failUndone(taken, unavailable("journal writer error: " + e.getClass().getSimpleName()
                            + "; see the hub log"));
                } finally {
                    inFlight = 0;
                }
            }
        } catch (Error e) {
            LOG.error("journal writer stopped", e);
            List<JournalWrite<?>> left;
            lock.lock();
            try {
                stopped = true;
                left = new ArrayList<>(queue);
                queue.clear();
                awaitedQueued = 0;
            } finally {
                lock.unlock();
            }
            failUndone(left, unavailable("journal writer stopped: " + e.getClass().getSimpleName()
                    + "; see the hub log"));
            throw e;
        } finally {
            discardConnection();
        }
    }

    /**
     * Writes whose callers do not wait on them: a task's state change (the dispatcher goes on at once),
     * its output and the output's size as its log ended. They may wait {@link #LINGER} for company.
     */
    static boolean deferrable(JournalWrite<?> write) {
        return switch (write.what()) {
            case "task.transition", "task.output", OUTPUT_END -> true;
            default -> false;
        };
    }

    /**
     * Everything waiting, up to maxBatch; waits while nothing is; empty once stopped and drained. When
     * only deferrable writes wait, lingers up to {@code linger} for one a caller waits on.
     */
    private List<JournalWrite<?>> take() {
        lock.lock();
        try {
            while (queue.isEmpty() && !stopped) {
                waiting.awaitUninterruptibly();
            }
            long lingerEnd = System.nanoTime() + linger.toNanos();
            while (awaitedQueued == 0 && !stopped && queue.size() < maxBatch) {
                long left = lingerEnd - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    waiting.awaitNanos(left);
                } catch (InterruptedException e) {
                    // The writer is never interrupted on purpose; keep the flag and commit now.
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            int size = Math.min(queue.size(), maxBatch);
            List<JournalWrite<?>> batch = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                JournalWrite<?> write = queue.poll();
                if (!deferrable(write)) {
                    awaitedQueued--;
                }
                batch.add(write);
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** One transaction, one commit; then every stage completes. */
    private void applyBatch(List<JournalWrite<?>> units) {
        List<JournalWrite<?>> pending = new ArrayList<>(units);
        while (!pending.isEmpty()) {
            Connection current;
            try {
                current = connection();
            } catch (SQLException e) {
                LOG.warn("journal writer cannot reach the database (SQLState {})", e.getSQLState(), e);
                failUndone(pending, databaseError(e));
                return;
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
            JournalWrite<?> culprit = null;
            try {
                for (JournalWrite<?> write : pending) {
                    if (!applyUnderSavepoint(current, write, now)) {
                        culprit = write;
                        break;
                    }
                }
                if (culprit == null) {
                    long committing = System.nanoTime();
                    current.commit();
                    commitSeconds.record((System.nanoTime() - committing) / 1e9);
                    writesPerCommit.record(pending.size());
                    writesCommitted.add(pending.size());
                    commits.incrementAndGet();
                }
            } catch (SQLException e) {
                // The commit failed: nothing of this batch is durable.
                LOG.warn("journal commit of {} write(s) failed (SQLState {})", pending.size(), e.getSQLState(), e);
                discardConnection();
                failUndone(pending, databaseError(e));
                return;
            }
            if (culprit == null) {
                for (JournalWrite<?> write : pending) {
                    write.complete();
                }
                return;
            }
            // That write's error took the whole transaction with it: run the batch again without it.
            rollbackOrDiscard();
            culprit.complete();
            pending.remove(culprit);
        }
    }

    /**
     * Applies one write under its own savepoint.
     *
     * @return false if the transaction did not survive the write's failure
     */
    private boolean applyUnderSavepoint(Connection current, JournalWrite<?> write, Instant now) {
        Savepoint savepoint;
        try {
            savepoint = current.setSavepoint();
        } catch (SQLException e) {
            write.refuse(databaseError(e));
            return false;
        }
        boolean transactionLost = false;
        try {
            write.applyIn(current, now);
            current.releaseSavepoint(savepoint);
            return true;
        } catch (IllegalStateException e) {
            LOG.debug("journal refused {}: {}", write.what(), e.getMessage());
            write.refuse(e);
        } catch (SQLException e) {
            LOG.warn("journal database error during {} (SQLState {})", write.what(), e.getSQLState(), e);
            write.refuse(databaseError(e));
            // Class 40: Derby has rolled the whole transaction back (deadlock, lock timeout).
            transactionLost = e.getSQLState() != null && e.getSQLState().startsWith("40");
        } catch (RuntimeException e) {
            LOG.warn("journal failure during {}", write.what(), e);
            write.refuse(unavailable("journal database error: " + e.getClass().getSimpleName() + "; see the hub log"));
        }
        if (transactionLost) {
            return false;
        }
        try {
            current.rollback(savepoint);
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            if (abandoned) {
                // The database may have been shut down under us; reconnecting would boot it again.
                throw new SQLException(JournalExecutor.STOPPED_MESSAGE, "08003");
            }
            Connection opened = connections.open();
            opened.setAutoCommit(false);
            connection = opened;
        }
        return connection;
    }

    private void rollbackOrDiscard() {
        if (connection == null) {
            return;
        }
        try {
            connection.rollback();
        } catch (SQLException e) {
            discardConnection();
        }
    }

    private void discardConnection() {
        Connection current = connection;
        connection = null;
        if (current == null) {
            return;
        }
        try {
            if (!current.isClosed()) {
                // Derby will not close a connection with a transaction open.
                current.rollback();
                current.close();
            }
        } catch (SQLException e) {
            LOG.debug("closing the journal writer's connection failed (SQLState {})", e.getSQLState());
        }
    }

    private static void failUndone(List<JournalWrite<?>> writes, RuntimeException failure) {
        for (JournalWrite<?> write : writes) {
            if (!write.isDone()) {
                write.fail(failure);
            }
        }
    }

    private static IllegalStateException databaseError(SQLException e) {
        return unavailable("journal database error: SQLState " + e.getSQLState() + "; see the hub log");
    }

    private static IllegalStateException unavailable(String message) {
        return new IllegalStateException(message);
    }
}
