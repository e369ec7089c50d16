package dev.meshhub.scheduler.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.RunOutcome;
import dev.meshhub.api.management.TaskScheduleState;

/**
 * Runs management tasks: one timer thread that only decides when a run is due (and when one is past
 * its time limit), and a bounded pool of worker threads that do the runs.
 *
 * <p>Crash isolation: every run catches {@link Throwable}; a failure is logged with the task's name and
 * counted, and its next run comes on schedule. A run past its time limit is interrupted and counted as
 * timed out; until it returns, its task gets no more runs (so a hung task never piles up runs), and the
 * pool lends a replacement thread (up to {@code hungThreadAllowance}) so the hung run does not take a
 * thread from the other tasks.
 *
 * <p>All bookkeeping happens under one lock, held only for field updates on the timer, worker and OSGi
 * threads. {@link #tasks()} reads published immutable statuses and takes no lock, so the admin API
 * can call it from a gRPC thread.
 */
final class SchedulerEngine {

    /** Worker threads are named this plus a number; during a run the task's name is appended. */
    static final String WORKER_PREFIX = "meshhub-management-";
    static final String TIMER_THREAD = "meshhub-management-timer";

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerEngine.class);

    private final Clock clock;
    private final ScheduledThreadPoolExecutor timer;
    private final ThreadPoolExecutor workers;
    private final Map<Long, Entry> entries = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private int threads;
    /** Guarded by {@link #lock}. */
    private int hungThreadAllowance;
    /** Threads lent to replace hung runs. Guarded by {@link #lock}. */
    private int lent;
    /** Guarded by {@link #lock}. */
    private boolean closed;

    SchedulerEngine(Clock clock, int threads, int hungThreadAllowance) {
        this.clock = clock;
        this.threads = threads;
        this.hungThreadAllowance = hungThreadAllowance;
        this.timer = new ScheduledThreadPoolExecutor(1, named(TIMER_THREAD, false));
        timer.setRemoveOnCancelPolicy(true);
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        timer.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        // The queue holds at most one run per task, or per-task pool size for concurrent ones (see trigger).
        this.workers = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                named(WORKER_PREFIX, true));
        workers.allowCoreThreadTimeOut(true);
    }

    /** Starts tracking a task service; a valid one gets its first run at once. */
    void add(long serviceId, String bundle, ManagementTask task, Map<String, ?> properties, String fallbackName) {
        TaskSchedule schedule = TaskSchedule.read(properties, fallbackName);
        Entry entry = new Entry(serviceId, bundle, task, fallbackName, schedule);
        synchronized (lock) {
            if (closed) {
                return;
            }
            Entry previous = entries.put(serviceId, entry);
            if (previous != null) {
                retire(previous);
            }
            if (schedule instanceof TaskSchedule.Valid valid) {
                entry.trigger = schedule(entry, valid, Duration.ZERO);
            }
            publish(entry);
        }
        if (schedule instanceof TaskSchedule.Valid valid) {
            LOG.info("management task {} (bundle {}) scheduled every {}, time limit {}{}", valid.name(), bundle,
                    Durations.format(valid.period()), Durations.format(valid.timeLimit()),
                    valid.concurrent() ? ", runs may overlap" : "");
        } else {
            warnIgnored(entry, (TaskSchedule.Problem) schedule);
        }
    }

    /** The task service's properties changed: reschedule if its schedule did. */
    void update(long serviceId, Map<String, ?> properties) {
        TaskSchedule next;
        Entry entry;
        synchronized (lock) {
            entry = entries.get(serviceId);
            if (entry == null || closed) {
                return;
            }
            next = TaskSchedule.read(properties, entry.fallbackName);
            if (next.equals(entry.schedule)) {
                return;
            }
            Duration delay = Duration.ZERO;
            if (entry.trigger != null) {
                long remaining = Math.max(0, entry.trigger.getDelay(TimeUnit.NANOSECONDS));
                entry.trigger.cancel(false);
                entry.trigger = null;
                if (next instanceof TaskSchedule.Valid valid) {
                    // A shorter period takes effect now; a longer one does not postpone a run already due.
                    delay = Duration.ofNanos(Math.min(remaining, valid.period().toNanos()));
                }
            }
            entry.schedule = next;
            if (next instanceof TaskSchedule.Valid valid) {
                entry.trigger = schedule(entry, valid, delay);
            }
            publish(entry);
        }
        if (next instanceof TaskSchedule.Valid valid) {
            LOG.info("management task {} rescheduled: every {}, time limit {}{}", valid.name(),
                    Durations.format(valid.period()), Durations.format(valid.timeLimit()),
                    valid.concurrent() ? ", runs may overlap" : "");
        } else {
            warnIgnored(entry, (TaskSchedule.Problem) next);
        }
    }

    /** The task service went away (or its bundle stopped): no more runs; a run going is interrupted. */
    void remove(long serviceId) {
        Entry entry;
        int interrupted;
        synchronized (lock) {
            entry = entries.remove(serviceId);
            if (entry == null) {
                return;
            }
            interrupted = retire(entry);
        }
        LOG.info("management task {} (bundle {}) removed{}", entry.schedule.name(), entry.bundle,
                interrupted > 0 ? "; its running run was interrupted" : "");
    }

    /** Changes the pool size. */
    void resize(int threads, int hungThreadAllowance) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            this.threads = threads;
            this.hungThreadAllowance = hungThreadAllowance;
            applyPoolSize();
        }
    }

    /** Every tracked task, sorted by name then service id. Takes no lock. */
    List<ManagementTaskStatus> tasks() {
        List<ManagementTaskStatus> statuses = new ArrayList<>();
        for (Entry entry : entries.values()) {
            statuses.add(entry.status);
        }
        statuses.sort(Comparator.comparing(ManagementTaskStatus::name).thenComparingLong(ManagementTaskStatus::serviceId));
        return statuses;
    }

    /**
     * Stops: no more runs, running ones interrupted, then waits up to {@code wait} for them to return.
     *
     * @return whether every thread ended in time
     */
    boolean close(Duration wait) {
        List<String> stillRunning = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return workers.isTerminated();
            }
            closed = true;
            for (Entry entry : entries.values()) {
                retire(entry);
            }
        }
        timer.shutdownNow();
        workers.shutdownNow();
        boolean ended;
        try {
            ended = workers.awaitTermination(wait.toNanos(), TimeUnit.NANOSECONDS)
                    && timer.awaitTermination(Math.max(1, wait.toMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended = false;
        }
        if (!ended) {
            synchronized (lock) {
                for (Entry entry : entries.values()) {
                    if (!entry.running.isEmpty()) {
                        stillRunning.add(entry.schedule.name());
                    }
                }
            }
            LOG.warn("management tasks still running {} after the scheduler stopped: {}; they ignored the interrupt,"
                    + " and their threads end when they return", Durations.format(wait), stillRunning);
        }
        entries.clear();
        return ended;
    }

    // ---- on the timer thread ----

    private ScheduledFuture<?> schedule(Entry entry, TaskSchedule.Valid valid, Duration delay) {
        entry.nextRun = clock.instant().plus(delay);
        return timer.scheduleAtFixedRate(() -> trigger(entry), delay.toNanos(), valid.period().toNanos(),
                TimeUnit.NANOSECONDS);
    }

    private void trigger(Entry entry) {
        String skippedBecause = null;
        synchronized (lock) {
            if (entry.retired || closed || !(entry.schedule instanceof TaskSchedule.Valid valid)) {
                return;
            }
            entry.nextRun = clock.instant().plus(valid.period());
            if (entry.hungRuns > 0) {
                skippedBecause = "a run is past its time limit and has not returned";
            } else if (!valid.concurrent() && !entry.running.isEmpty()) {
                skippedBecause = "the previous run is still going";
            } else if (entry.running.size() >= threads) {
                skippedBecause = entry.running.size() + " runs are already going";
            }
            if (skippedBecause != null) {
                entry.skipped++;
            } else {
                Run run = new Run(entry, valid);
                entry.running.add(run);
                try {
                    workers.execute(run);
                } catch (RejectedExecutionException e) {
                    entry.running.remove(run);
                }
            }
            publish(entry);
        }
        if (skippedBecause != null) {
            LOG.debug("management task {} skipped a run: {}", entry.schedule.name(), skippedBecause);
        }
    }

    private void timedOut(Run run) {
        Entry entry = run.entry;
        synchronized (lock) {
            if (!entry.running.contains(run) || run.finished) {
                return;
            }
            run.timedOut = true;
            entry.timeouts++;
            entry.consecutiveFailures++;
            entry.hungRuns++;
            entry.lastError = "run passed its time limit of " + Durations.format(run.schedule.timeLimit());
            if (lent < hungThreadAllowance && !closed) {
                lent++;
                run.borrowed = true;
                applyPoolSize();
            }
            publish(entry);
            // Interrupt under the lock: the run cannot finish (and its thread move on to other work) meanwhile.
            run.thread.interrupt();
        }
        LOG.warn("management task {} passed its time limit of {}; interrupted it; it gets no more runs until"
                + " this one returns", run.schedule.name(), Durations.format(run.schedule.timeLimit()));
    }

    // ---- helpers, under the lock ----

    /** Stops an entry's schedule and interrupts its runs; returns how many were interrupted. */
    private int retire(Entry entry) {
        entry.retired = true;
        if (entry.trigger != null) {
            entry.trigger.cancel(false);
            entry.trigger = null;
        }
        int interrupted = 0;
        for (Run run : entry.running) {
            run.cancelled = true;
            if (run.thread != null && !run.finished) {
                run.thread.interrupt();
                interrupted++;
            }
        }
        return interrupted;
    }

    private void applyPoolSize() {
        int size = threads + lent;
        if (size >= workers.getMaximumPoolSize()) {
            workers.setMaximumPoolSize(size);
            workers.setCorePoolSize(size);
        } else {
            workers.setCorePoolSize(size);
            workers.setMaximumPoolSize(size);
        }
    }

    private void publish(Entry entry) {
        TaskScheduleState state;
        String problem = null;
        java.time.Duration period = null;
        java.time.Duration timeLimit = null;
        boolean concurrent = false;
        Instant nextRun = null;
        if (entry.schedule instanceof TaskSchedule.Valid valid) {
            period = valid.period();
            timeLimit = valid.timeLimit();
            concurrent = valid.concurrent();
            if (entry.hungRuns > 0) {
                state = TaskScheduleState.HUNG;
            } else {
                state = entry.running.isEmpty() ? TaskScheduleState.WAITING : TaskScheduleState.RUNNING;
                nextRun = entry.retired ? null : entry.nextRun;
            }
        } else {
            state = TaskScheduleState.IGNORED;
            problem = ((TaskSchedule.Problem) entry.schedule).reason();
        }
        entry.status = new ManagementTaskStatus(entry.schedule.name(), entry.serviceId, entry.bundle, state, problem,
                period, timeLimit, concurrent, entry.runs, entry.failures, entry.timeouts, entry.skipped,
                entry.consecutiveFailures, entry.lastStart, entry.lastDuration, entry.lastOutcome, entry.lastError,
                nextRun);
    }

    private static void warnIgnored(Entry entry, TaskSchedule.Problem problem) {
        LOG.warn("ignoring management task service {} ({}, bundle {}): {}", entry.serviceId, problem.name(),
                entry.bundle, problem.reason());
    }

    private static String describe(Throwable failure) {
        String message = failure.getMessage();
        return failure.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    private static ThreadFactory named(String name, boolean numbered) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, numbered ? name + count.incrementAndGet() : name);
            // Daemon: a run that ignores interrupts must not keep the JVM alive after the hub stopped.
            thread.setDaemon(true);
            return thread;
        };
    }

    /** One tracked task service. Mutable fields are guarded by the engine's lock. */
    private static final class Entry {
        final long serviceId;
        final String bundle;
        final ManagementTask task;
        final String fallbackName;
        TaskSchedule schedule;
        ScheduledFuture<?> trigger;
        final Set<Run> running = new HashSet<>();
        int hungRuns;
        long runs;
        long failures;
        long timeouts;
        long skipped;
        long consecutiveFailures;
        Instant lastStart;
        Duration lastDuration;
        RunOutcome lastOutcome;
        String lastError;
        Instant nextRun;
        boolean retired;
        volatile ManagementTaskStatus status;

        Entry(long serviceId, String bundle, ManagementTask task, String fallbackName, TaskSchedule schedule) {
            this.serviceId = serviceId;
            this.bundle = bundle;
            this.task = task;
            this.fallbackName = fallbackName;
            this.schedule = schedule;
        }
    }

    /** One run of a task, on a worker thread. */
    private final class Run implements Runnable {
        final Entry entry;
        final TaskSchedule.Valid schedule;
        /** The following are guarded by the engine's lock. */
        Thread thread;
        ScheduledFuture<?> limit;
        boolean timedOut;
        boolean cancelled;
        boolean borrowed;
        boolean finished;

        Run(Entry entry, TaskSchedule.Valid schedule) {
            this.entry = entry;
            this.schedule = schedule;
        }

        @Override
        public void run() {
            Thread current = Thread.currentThread();
            long started;
            synchronized (lock) {
                if (cancelled || entry.retired || closed) {
                    entry.running.remove(this);
                    publish(entry);
                    return;
                }
                thread = current;
                started = System.nanoTime();
                entry.runs++;
                entry.lastStart = clock.instant();
                limit = timer.schedule(() -> timedOut(this), schedule.timeLimit().toNanos(), TimeUnit.NANOSECONDS);
                publish(entry);
            }
            String threadName = current.getName();
            current.setName(threadName + " [" + schedule.name() + "]");
            Throwable failure = null;
            try {
                entry.task.run();
            } catch (Throwable t) {
                failure = t;
            } finally {
                current.setName(threadName);
            }
            finish(failure, Duration.ofNanos(System.nanoTime() - started));
        }

        private void finish(Throwable failure, Duration took) {
            RunOutcome outcome;
            boolean schedulerStopped;
            long failedInARow;
            long recoveredAfter = 0;
            synchronized (lock) {
                finished = true;
                schedulerStopped = closed;
                limit.cancel(false);
                entry.running.remove(this);
                // Clear an interrupt meant for this run before the thread takes other work.
                Thread.interrupted();
                if (timedOut) {
                    entry.hungRuns--;
                    if (borrowed) {
                        lent--;
                        if (!closed) {
                            applyPoolSize();
                        }
                    }
                    outcome = RunOutcome.TIMED_OUT;
                    if (failure != null && !(failure instanceof InterruptedException)) {
                        entry.lastError = "run passed its time limit of " + Durations.format(schedule.timeLimit())
                                + ", then failed: " + describe(failure);
                    }
                } else if (cancelled) {
                    outcome = RunOutcome.INTERRUPTED;
                } else if (failure != null) {
                    entry.failures++;
                    entry.consecutiveFailures++;
                    entry.lastError = describe(failure);
                    outcome = RunOutcome.FAILED;
                } else {
                    recoveredAfter = entry.consecutiveFailures;
                    entry.consecutiveFailures = 0;
                    outcome = RunOutcome.SUCCEEDED;
                }
                failedInARow = entry.consecutiveFailures;
                entry.lastDuration = took;
                entry.lastOutcome = outcome;
                publish(entry);
            }
            switch (outcome) {
                case FAILED -> {
                    if (failedInARow == 1) {
                        LOG.warn("management task {} failed after {}", schedule.name(), Durations.format(took), failure);
                    } else {
                        LOG.warn("management task {} failed again ({} runs in a row): {}", schedule.name(),
                                failedInARow, describe(failure));
                    }
                }
                case TIMED_OUT -> LOG.warn("management task {} returned after {}, past its time limit of {}",
                        schedule.name(), Durations.format(took), Durations.format(schedule.timeLimit()));
                case INTERRUPTED -> LOG.info("management task {} interrupted after {}: {}", schedule.name(),
                        Durations.format(took), schedulerStopped ? "the scheduler is stopping" : "its service went away");
                case SUCCEEDED -> {
                    if (recoveredAfter > 0) {
                        LOG.info("management task {} succeeded again after {} failed run(s)", schedule.name(),
                                recoveredAfter);
                    } else {
                        LOG.debug("management task {} ran in {}", schedule.name(), Durations.format(took));
                    }
                }
            }
        }
    }
}
