package dev.meshhub.locks.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.Test;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockStats;

/** Real threads against one table, on the system clock, with TTLs long enough never to expire. */
public class LockTableConcurrencyTest {

    private static final int THREADS = 8;
    private static final Duration TTL = Duration.ofMinutes(10);

    private final LockTable table = new LockTable(Clock.systemUTC());

    /** Starts the workers together, waits for them, and rethrows the first failure. */
    private static void race(int threads, Worker worker) throws Exception {
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    worker.run(id);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "lock-racer-" + t);
            running.add(thread);
            thread.start();
        }
        for (Thread thread : running) {
            thread.join(60_000);
            assertTrue(thread.getName() + " did not finish", !thread.isAlive());
        }
        if (failure.get() != null) {
            throw new AssertionError("a racer failed", failure.get());
        }
    }

    private interface Worker {
        void run(int id) throws Exception;
    }

    @Test
    public void threadsRacingForOneKeyNeverHoldItTogether() throws Exception {
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        AtomicLong wins = new AtomicLong();
        AtomicLong losses = new AtomicLong();

        race(THREADS, id -> {
            for (int i = 0; i < 50_000; i++) {
                Optional<IoLock> lock = table.tryAcquire("mirror/n1/shared.log", "sync " + id + "-" + i, TTL);
                if (lock.isEmpty()) {
                    losses.incrementAndGet();
                    continue;
                }
                int now = holding.incrementAndGet();
                mostAtOnce.accumulateAndGet(now, Math::max);
                wins.incrementAndGet();
                if ((i & 7) == 0) {
                    Thread.yield();
                }
                holding.decrementAndGet();
                if ((i & 1) == 0) {
                    lock.get().close();
                } else {
                    table.releaseAll("sync " + id + "-" + i);
                }
            }
        });

        assertEquals("never two holders at once", 1, mostAtOnce.get());
        assertTrue("someone won", wins.get() > 0);
        LockStats stats = table.stats();
        assertEquals(wins.get(), stats.acquired());
        assertEquals(wins.get(), stats.released());
        assertEquals(losses.get(), stats.refused());
        assertEquals(0, table.keyCount());
        assertEquals(0, table.ownerCount());
    }

    @Test
    public void closeReleaseAllAndAcquireInterleavedLeaveConsistentMaps() throws Exception {
        // Eight nodes, one owner each, contending for 16 keys; each thread also releases a
        // neighbour's owner now and then, so releaseAll races with that owner's close and acquire.
        race(THREADS, id -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            List<IoLock> mine = new ArrayList<>();
            for (int i = 0; i < 100_000; i++) {
                int action = random.nextInt(10);
                if (action < 5) {
                    table.tryAcquire("k" + random.nextInt(16), "node " + id, TTL).ifPresent(mine::add);
                } else if (action < 8 && !mine.isEmpty()) {
                    mine.remove(mine.size() - 1).close();
                } else if (action == 8) {
                    table.releaseAll("node " + random.nextInt(THREADS));
                } else {
                    table.stats();
                }
            }
            for (IoLock lock : mine) {
                lock.close();
            }
        });

        for (int owner = 0; owner < THREADS; owner++) {
            table.releaseAll("node " + owner);
        }
        LockStats stats = table.stats();
        assertEquals(0, stats.live());
        assertEquals("every acquisition was released exactly once", stats.acquired(), stats.released());
        assertEquals(0, table.keyCount());
        assertEquals(0, table.ownerCount());
    }
}
