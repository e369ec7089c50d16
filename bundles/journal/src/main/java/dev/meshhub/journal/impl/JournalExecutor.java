package dev.meshhub.journal.impl;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;

/**
 * The journal's own threads: a fixed number of them behind a bounded queue, shared by the
 * enrollment store's transactions and the task journal's reads (task writes go to the
 * {@link GroupCommitWriter} instead). Work is never interrupted, because Derby closes a connection
 * whose thread is interrupted inside JDBC; closing lets queued work finish within a bounded wait
 * instead.
 */
final class JournalExecutor {

    /** Journal threads are named this plus a number. */
    static final String THREAD_NAME_PREFIX = "meshhub-journal-";
    static final String STOPPED_MESSAGE = "journal is stopped";
    static final String OVERLOADED_MESSAGE = "journal is overloaded; retry shortly";

    private static final Logger LOG = LoggerFactory.getLogger(JournalExecutor.class);
    private static final AtomicInteger THREAD_NUMBERS = new AtomicInteger();

    /** Storage work; a {@link SQLException} becomes an UNAVAILABLE failure. */
    @FunctionalInterface
    interface Work<T> {
        T run() throws SQLException;
    }

    /**
     * How failures look to one kind of caller: the enrollment API speaks {@link EnrollmentException},
     * the task journal and audit log speak {@link IllegalStateException}.
     */
    interface Failures {
        /** Whether a failure thrown by the work is already meant for the caller and passes unchanged. */
        boolean isForCaller(RuntimeException failure);

        /** The failure telling the caller the journal cannot serve (stopped, overloaded, database error). */
        RuntimeException unavailable(String message);
    }

    /** Failures of the enrollment store: {@link EnrollmentException}, UNAVAILABLE. */
    static final Failures ENROLLMENT = new Failures() {
        @Override
        public boolean isForCaller(RuntimeException failure) {
            return failure instanceof EnrollmentException;
        }

        @Override
        public RuntimeException unavailable(String message) {
            return new EnrollmentException(Reason.UNAVAILABLE, message);
        }
    };

    /** Failures of the task journal and audit log: {@link IllegalStateException}. */
    static final Failures TASKS = new Failures() {
        @Override
        public boolean isForCaller(RuntimeException failure) {
            return failure instanceof IllegalStateException;
        }

        @Override
        public RuntimeException unavailable(String message) {
            return new IllegalStateException(message);
        }
    };

    private final ThreadPoolExecutor pool;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicBoolean overloaded = new AtomicBoolean();
    private volatile boolean stopped;

    JournalExecutor(int threadCount, int queueCapacity) {
        pool = new ThreadPoolExecutor(threadCount, threadCount, 0L, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity), this::newThread, new ThreadPoolExecutor.AbortPolicy());
        pool.prestartAllCoreThreads();
    }

    private Thread newThread(Runnable runnable) {
        Thread thread = new Thread(runnable, THREAD_NAME_PREFIX + THREAD_NUMBERS.incrementAndGet());
        // Daemon: an orderly close() ends these threads; a launcher that forgets to must not hang the JVM.
        thread.setDaemon(true);
        threads.add(thread);
        return thread;
    }

    /**
     * Runs enrollment {@code work} on a journal thread; the stage is completed from that thread.
     * Fails at once with UNAVAILABLE when the queue is full or the executor is stopped.
     */
    <T> CompletionStage<T> submit(String what, Work<T> work) {
        return submit(what, work, ENROLLMENT);
    }

    /**
     * Runs {@code work} on a journal thread; the stage is completed from that thread. Fails at once,
     * as {@code failures} says, when the queue is full or the executor is stopped.
     */
    <T> CompletionStage<T> submit(String what, Work<T> work, Failures failures) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (stopped) {
            return failed(failures.unavailable(STOPPED_MESSAGE));
        }
        try {
            pool.execute(new Task<>(what, work, failures, result));
            if (overloaded.get()) {
                overloaded.set(false);
                LOG.info("journal queue accepts work again");
            }
        } catch (RejectedExecutionException e) {
            if (stopped) {
                return failed(failures.unavailable(STOPPED_MESSAGE));
            }
            if (overloaded.compareAndSet(false, true)) {
                LOG.warn("journal queue is full ({} waiting); refusing work until it drains", pool.getQueue().size());
            }
            return failed(failures.unavailable(OVERLOADED_MESSAGE));
        }
        // A minimal stage: callers cannot complete or cancel the journal's own future.
        return result.minimalCompletionStage();
    }

    static <T> CompletionStage<T> failed(Reason reason, String message) {
        return failed(new EnrollmentException(reason, message));
    }

    /** A stage that has already failed; callers cannot complete or cancel it. */
    static <T> CompletionStage<T> failed(RuntimeException failure) {
        return CompletableFuture.<T>failedFuture(failure).minimalCompletionStage();
    }

    /**
     * Stops accepting work, lets queued and running work finish for at most {@code wait}, then fails
     * whatever is still queued. Running work is never interrupted.
     *
     * @return whether every journal thread ended within the wait
     */
    boolean close(Duration wait) {
        stopped = true;
        pool.shutdown();
        long deadline = System.nanoTime() + wait.toNanos();
        boolean interrupted = false;
        boolean terminated = false;
        while (!terminated) {
            try {
                terminated = pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                break;
            } catch (InterruptedException e) {
                // Keep waiting: giving up early would shut Derby down under running work.
                interrupted = true;
            }
        }
        if (!terminated) {
            List<Runnable> queued = new ArrayList<>();
            pool.getQueue().drainTo(queued);
            LOG.warn("journal work did not finish within {}; failing {} queued task(s), {} still running",
                    wait, queued.size(), pool.getActiveCount());
            for (Runnable runnable : queued) {
                ((Task<?>) runnable).failStopped();
            }
        }
        // The pool counts as terminated while its last thread is still on its way out; join them all.
        boolean ended = true;
        for (Thread thread : threads) {
            try {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                interrupted = true;
            }
            ended &= !thread.isAlive();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return ended;
    }

    private static final class Task<T> implements Runnable {
        private final String what;
        private final Work<T> work;
        private final Failures failures;
        private final CompletableFuture<T> result;

        Task(String what, Work<T> work, Failures failures, CompletableFuture<T> result) {
            this.what = what;
            this.work = work;
            this.failures = failures;
            this.result = result;
        }

        @Override
        public void run() {
            try {
                result.complete(work.run());
            } catch (SQLException e) {
                LOG.warn("journal database error during {} (SQLState {})", what, e.getSQLState(), e);
                result.completeExceptionally(failures.unavailable(
                        "journal database error: SQLState " + e.getSQLState() + "; see the hub log"));
            } catch (RuntimeException e) {
                if (failures.isForCaller(e)) {
                    result.completeExceptionally(e);
                    return;
                }
                LOG.warn("journal failure during {}", what, e);
                result.completeExceptionally(failures.unavailable(
                        "journal database error: " + e.getClass().getSimpleName() + "; see the hub log"));
            } catch (Error e) {
                result.completeExceptionally(failures.unavailable(
                        "journal database error: " + e.getClass().getSimpleName() + "; see the hub log"));
                throw e;
            }
        }

        void failStopped() {
            result.completeExceptionally(failures.unavailable(STOPPED_MESSAGE));
        }
    }
}
