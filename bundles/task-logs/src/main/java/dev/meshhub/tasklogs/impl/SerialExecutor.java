package dev.meshhub.tasklogs.impl;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one log's work in submission order on a shared pool, one task at a time, without a thread of
 * its own: a drain is queued on the pool when work arrives, and it runs a batch before letting other
 * logs' work in. It may start held (a log that waits for the previous log of the same task to close).
 *
 * <p>Tasks must not throw (a throw is logged and the next task runs). Once the pool refuses work (it
 * is shut down) the tasks run on the submitting thread; by then the logs do no IO, so that is quick.
 */
final class SerialExecutor implements Executor {

    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
    /** Tasks one drain runs before it queues itself again behind the other logs. */
    private static final int BATCH = 32;

    private final Executor pool;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean scheduled;
    private boolean held;

    SerialExecutor(Executor pool, boolean held) {
        this.pool = pool;
        this.held = held;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (this) {
            queue.add(task);
            if (scheduled || held) {
                return;
            }
            scheduled = true;
        }
        schedule();
    }

    /** Lets a held executor start. */
    void release() {
        synchronized (this) {
            held = false;
            if (scheduled || queue.isEmpty()) {
                return;
            }
            scheduled = true;
        }
        schedule();
    }

    private void schedule() {
        try {
            pool.execute(this::drain);
        } catch (RejectedExecutionException e) {
            drain();
        }
    }

    private void drain() {
        for (int i = 0; i < BATCH; i++) {
            Runnable next;
            synchronized (this) {
                next = queue.poll();
                if (next == null) {
                    scheduled = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException | Error e) {
                LOG.error("task log work failed", e);
            }
        }
        schedule();
    }
}
