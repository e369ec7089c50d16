package dev.meshhub.locks.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.Test;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockStats;

/**
 * The audit's leak: syncs that take locks and vanish. Whichever way an abandoned lock goes (its owner
 * released when the stream ends, left to expire and swept, or taken over once expired), nothing of it
 * may stay in memory.
 */
public class LockTableChurnTest {

    private static final int CYCLES = 1_000_000;
    /** Locks abandoned between two clean-ups, like the syncs of many nodes dropping at once. */
    private static final int BATCH = 50_000;
    private static final Duration TTL = Duration.ofMinutes(5);

    private final ManualClock clock = new ManualClock();
    private final LockTable table = new LockTable(clock);

    private void assertNothingRetained() {
        assertEquals(0, table.stats().live());
        assertEquals("keys", 0, table.keyCount());
        assertEquals("owners", 0, table.ownerCount());
        assertEquals("indexed holders", 0, table.indexedCount());
    }

    @Test
    public void aMillionAbandonedLocksLeaveNothingBehind() {
        int maxKeys = 0;
        for (int start = 0; start < CYCLES; start += BATCH) {
            boolean releasedWithOwner = (start / BATCH) % 2 == 0;
            for (int i = start; i < start + BATCH; i++) {
                // A fresh owner per sync, as in the hub; keys repeat from batch to batch.
                Optional<IoLock> lock = table.tryAcquire("mirror/n-" + (i % 97) + "/file-" + (i % BATCH),
                        "sync s-" + i, TTL);
                assertTrue("cycle " + i + " was refused", lock.isPresent());
            }
            maxKeys = Math.max(maxKeys, table.keyCount());
            if (releasedWithOwner) {
                for (int i = start; i < start + BATCH; i++) {
                    assertEquals(1, table.releaseAll("sync s-" + i));
                }
            } else {
                clock.advance(TTL);
                assertEquals(BATCH, table.sweep());
            }
            assertNothingRetained();
        }

        LockStats stats = table.stats();
        assertEquals(CYCLES, stats.acquired());
        assertEquals(CYCLES / 2, stats.released());
        assertEquals(CYCLES / 2, stats.expired());
        assertEquals(0, stats.refused());
        assertEquals("the table never held more than one batch", BATCH, maxKeys);
    }

    @Test
    public void expiredLocksTakenOverLeaveNoOwnerBehind() {
        int syncs = 250;
        List<IoLock> abandoned = new ArrayList<>();
        for (int i = 0; i < syncs; i++) {
            abandoned.add(table.tryAcquire("k" + (i % 100), "gone " + i, Duration.ofSeconds(1)).orElseThrow());
            clock.advance(Duration.ofSeconds(1));
        }
        // Every lock but the last was taken over by the next sync on its key, or swept.
        table.sweep();
        assertNothingRetained();
        for (IoLock lock : abandoned) {
            assertFalse(lock.isHeld());
            lock.close();
        }
        assertEquals(syncs, table.stats().expired());
        assertEquals("a stale holder's close is not a release", 0, table.stats().released());
    }
}
