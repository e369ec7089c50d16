package dev.meshhub.transport.impl.dispatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskState;

/**
 * The dispatcher's state changes on their way to the task journal. A change the journal cannot take
 * now (its bundle is being updated or restarted, or it is overloaded) is kept and written once a
 * journal is back, so a task that ends while the journal is away is still journaled with its real
 * outcome. Order does not matter: the journal only moves a task forward and never changes a finished
 * one. At most {@link #MAX_KEPT} changes are kept; past that the oldest are dropped, counted and
 * logged.
 */
final class JournalWrites {

    private static final Logger LOG = LoggerFactory.getLogger(JournalWrites.class);
    static final int MAX_KEPT = 100_000;
    static final long RETRY_MILLIS = 1000;

    private record Change(String taskId, TaskState state, Integer exitCode, String diagnostic) {
    }

    private final ScheduledExecutorService timers;
    private final ArrayDeque<Change> kept = new ArrayDeque<>();
    private volatile TaskJournal journal;
    private ScheduledFuture<?> retry;
    private long dropped;

    JournalWrites(ScheduledExecutorService timers) {
        this.timers = timers;
    }

    TaskJournal journal() {
        return journal;
    }

    void bind(TaskJournal bound) {
        journal = bound;
        retrySoon(0);
    }

    void unbind(TaskJournal gone) {
        if (journal == gone) {
            journal = null;
        }
    }

    /** What the journal keeps of an assignment: secret variables by name only, their values never stored. */
    static dev.meshhub.proto.v1.TaskAssignment withoutSecrets(dev.meshhub.proto.v1.TaskAssignment assignment) {
        if (!assignment.hasCommand() || assignment.getCommand().getSecretEnvironmentCount() == 0) {
            return assignment;
        }
        dev.meshhub.proto.v1.CommandTask.Builder command = assignment.getCommand().toBuilder().clearSecretEnvironment();
        for (String name : assignment.getCommand().getSecretEnvironmentMap().keySet()) {
            command.putSecretEnvironment(name, "");
        }
        return assignment.toBuilder().setCommand(command).build();
    }

    /** Records a task's new state, now or once a journal takes it. */
    void transition(String taskId, TaskState state, Integer exitCode, String diagnostic) {
        Change change = new Change(taskId, state, exitCode, diagnostic == null ? "" : diagnostic);
        TaskJournal current = journal;
        synchronized (this) {
            if (current == null || !kept.isEmpty()) {
                keep(change);
                return;
            }
        }
        write(current, change);
    }

    /** Changes waiting for a journal. */
    synchronized int waiting() {
        return kept.size();
    }

    private void write(TaskJournal target, Change change) {
        CompletionStage<Boolean> written;
        try {
            written = target.transition(change.taskId(), change.state(), change.exitCode(), change.diagnostic());
        } catch (RuntimeException e) {
            keepLogged(change, e);
            return;
        }
        written.whenComplete((changed, failure) -> {
            if (failure != null) {
                keepLogged(change, failure);
            }
        });
    }

    private void keepLogged(Change change, Throwable failure) {
        LOG.debug("task {} became {}; the journal could not record it yet ({}); kept until it can", change.taskId(),
                change.state(), failure.toString());
        synchronized (this) {
            keep(change);
        }
    }

    /** Caller holds the lock. */
    private void keep(Change change) {
        if (kept.size() >= MAX_KEPT) {
            kept.poll();
            if (dropped++ % 10_000 == 0) {
                LOG.warn("the task journal has been away too long: {} state change(s) of tasks dropped so far"
                        + " (at most {} are kept)", dropped, MAX_KEPT);
            }
        }
        kept.add(change);
        retrySoon(RETRY_MILLIS);
    }

    private synchronized void retrySoon(long delayMillis) {
        if (kept.isEmpty() || (retry != null && !retry.isDone())) {
            return;
        }
        try {
            retry = timers.schedule(this::replay, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // the dispatcher is stopping: nothing more is written
        }
    }

    private void replay() {
        TaskJournal current = journal;
        List<Change> batch;
        synchronized (this) {
            retry = null;
            if (current == null || kept.isEmpty()) {
                return;
            }
            batch = new ArrayList<>(kept);
            kept.clear();
        }
        LOG.info("writing {} task state change(s) kept while the journal was away", batch.size());
        for (Change change : batch) {
            write(current, change);
        }
    }

    /** The message of a failure's root cause (a journal write's), for diagnostics. */
    static String rootMessage(Throwable failure) {
        Throwable t = failure;
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException || t.getMessage() == null)) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
