package dev.meshhub.metrics.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskState;

/**
 * The journal's tasks by state for a scrape: counted at most once per {@code maxAge} (a count over a
 * large journal is a query, and Prometheus may scrape every few seconds, or a test every 100 ms), each
 * count waited for at most {@code timeout}. A scrape while the journal is slow or away gets the last
 * count with its age, or none.
 */
final class TaskCounts {

    /** A count and when it was taken. */
    record Counted(Map<TaskState, Long> byState, Instant at) {
    }

    private final Clock clock;
    private final Duration maxAge;
    private final Duration timeout;
    private Counted last;

    TaskCounts(Clock clock, Duration maxAge, Duration timeout) {
        this.clock = clock;
        this.maxAge = maxAge;
        this.timeout = timeout;
    }

    /** The latest count, fresh when the last one is older than {@code maxAge}; null when there never was one. */
    synchronized Counted read(TaskJournal journal) throws InterruptedException {
        Instant now = clock.instant();
        if (journal != null && (last == null || !last.at().plus(maxAge).isAfter(now))) {
            try {
                Map<TaskState, Long> counted = journal.countByState().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                Map<TaskState, Long> all = new EnumMap<>(TaskState.class);
                for (TaskState state : TaskState.values()) {
                    all.put(state, counted.getOrDefault(state, 0L));
                }
                last = new Counted(all, now);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // the journal is slow or failing: the last count stands, its age says how old it is
            }
        }
        return last;
    }
}
