package dev.meshhub.tasklogs.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.meshhub.api.output.TaskLogInfo;

/**
 * Readers of one live log waiting for it to grow ({@link dev.meshhub.api.output.TaskLogs#grown}): each
 * waits until the log holds more than it has read, or is truncated (it will not grow, but its reader
 * should learn that now), or ends. Woken on the IO thread that changed the log.
 */
final class Followers {

    private record Waiter(long loggedBytes, CompletableFuture<Void> done) {
    }

    private final List<Waiter> waiting = new ArrayList<>();

    /** Waits for a log whose info is now {@code now} to hold more than {@code loggedBytes}. */
    synchronized CompletableFuture<Void> await(TaskLogInfo now, long loggedBytes) {
        if (!now.open() || now.loggedBytes() > loggedBytes) {
            return CompletableFuture.completedFuture(null);
        }
        Waiter waiter = new Waiter(loggedBytes, new CompletableFuture<>());
        waiting.add(waiter);
        return waiter.done();
    }

    /**
     * Wakes the followers the log's new info {@code now} (already published) lets read more; all of them
     * when {@code all} (the log was truncated or ended).
     */
    void wake(TaskLogInfo now, boolean all) {
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        synchronized (this) {
            waiting.removeIf(waiter -> {
                if (all || !now.open() || waiter.loggedBytes() < now.loggedBytes()) {
                    ready.add(waiter.done());
                    return true;
                }
                return false;
            });
        }
        ready.forEach(done -> done.complete(null));
    }
}
