package dev.meshhub.metrics.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.junit.Test;

import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskState;

public class TaskCountsTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-05T10:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };
    private final AtomicInteger queries = new AtomicInteger();

    /** A journal whose countByState answers what {@code answer} gives; every other method is never called here. */
    private TaskJournal journal(Supplier<CompletionStage<Map<TaskState, Long>>> answer) {
        return (TaskJournal) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {TaskJournal.class}, (proxy, method, args) -> {
            if (method.getName().equals("countByState")) {
                queries.incrementAndGet();
                return answer.get();
            }
            throw new UnsupportedOperationException(method.getName());
        });
    }

    @Test
    public void countsAtMostOncePerMaxAgeAndFillsEveryState() throws Exception {
        TaskCounts counts = new TaskCounts(clock, Duration.ofSeconds(5), Duration.ofSeconds(1));
        TaskJournal journal = journal(() -> CompletableFuture.completedFuture(Map.of(TaskState.SUCCEEDED, 3L)));
        TaskCounts.Counted first = counts.read(journal);
        assertEquals(3L, (long) first.byState().get(TaskState.SUCCEEDED));
        assertEquals("states the journal did not name are 0", 0L, (long) first.byState().get(TaskState.RUNNING));
        now.set(now.get().plusSeconds(4));
        assertSame("within max age: the same count", first, counts.read(journal));
        now.set(now.get().plusSeconds(1));
        counts.read(journal);
        assertEquals(2, queries.get());
    }

    @Test
    public void aJournalThatDoesNotAnswerLeavesTheLastCountStanding() throws Exception {
        TaskCounts counts = new TaskCounts(clock, Duration.ZERO, Duration.ofMillis(50));
        assertNull("no count yet, and a journal that never answers", counts.read(journal(CompletableFuture::new)));
        TaskCounts.Counted counted = counts.read(journal(() -> CompletableFuture.completedFuture(Map.of(TaskState.FAILED, 1L))));
        now.set(now.get().plusSeconds(30));
        assertSame(counted, counts.read(journal(CompletableFuture::new)));
        assertSame(counted, counts.read(journal(() -> CompletableFuture.failedFuture(new IllegalStateException("journal closed")))));
        assertSame("no journal at all", counted, counts.read(null));
    }
}
