package dev.meshhub.locks.impl;

import static dev.meshhub.locks.impl.ManualClock.T0;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.Test;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.lock.LockStats;

public class LockTableTest {

    private static final Duration TTL = Duration.ofMinutes(5);

    private final ManualClock clock = new ManualClock();
    private final LockTable table = new LockTable(clock);

    private IoLock acquire(String key, String owner, Duration ttl) {
        Optional<IoLock> lock = table.tryAcquire(key, owner, ttl);
        assertTrue(key + " for " + owner + " was refused", lock.isPresent());
        return lock.get();
    }

    private static LockStats stats(int live, Duration oldest, long acquired, long released, long expired, long refused) {
        return new LockStats(live, oldest, acquired, released, expired, refused);
    }

    private void assertEmpty() {
        assertEquals("keys", 0, table.keyCount());
        assertEquals("owners", 0, table.ownerCount());
        assertEquals("indexed holders", 0, table.indexedCount());
    }

    @Test
    public void aKeyHasOneHolderAndOthersAreRefusedAtOnce() {
        IoLock first = acquire("mirror/n1/a.log", "sync s1", TTL);

        assertEquals(Optional.empty(), table.tryAcquire("mirror/n1/a.log", "sync s2", TTL));
        assertEquals("not re-entrant: the same owner is refused too", Optional.empty(),
                table.tryAcquire("mirror/n1/a.log", "sync s1", TTL));
        IoLock other = acquire("mirror/n1/b.log", "sync s2", TTL);

        assertTrue(first.isHeld());
        assertTrue(other.isHeld());
        assertEquals("mirror/n1/a.log", first.key());
        assertEquals("sync s1", first.owner());
        assertEquals(T0, first.acquiredAt());
        assertEquals(stats(2, Duration.ZERO, 2, 0, 0, 2), table.stats());
    }

    @Test
    public void closeReleasesOnceAndTheKeyIsFreeAgain() {
        IoLock lock = acquire("k", "o", TTL);

        lock.close();
        lock.close();

        assertFalse(lock.isHeld());
        assertFalse("a released lock cannot be renewed", lock.renew());
        assertEquals(stats(0, Duration.ZERO, 1, 1, 0, 0), table.stats());
        assertEmpty();
        acquire("k", "p", TTL);
    }

    @Test
    public void anExpiredLockIsTakenOverAndItsStaleHolderCannotReleaseTheNewOne() {
        IoLock stale = acquire("k", "sync s1", Duration.ofSeconds(10));
        clock.advance(Duration.ofSeconds(9));
        assertEquals("still held a second before expiry", Optional.empty(), table.tryAcquire("k", "sync s2", TTL));

        clock.advance(Duration.ofSeconds(1));
        assertFalse("expired at its ttl", stale.isHeld());
        IoLock fresh = acquire("k", "sync s2", TTL);

        stale.close();
        assertFalse(stale.renew());
        assertTrue("the stale holder's close left the new holder's lock alone", fresh.isHeld());
        assertEquals(stats(1, Duration.ZERO, 2, 0, 1, 1), table.stats());
        assertEquals("the stale owner left the index", 0, table.releaseAll("sync s1"));
        assertTrue(fresh.isHeld());
        assertEquals(1, table.ownerCount());
    }

    @Test
    public void renewPushesTheExpiryOneTtlFromNow() {
        IoLock lock = acquire("k", "o", Duration.ofSeconds(10));
        clock.advance(Duration.ofSeconds(8));
        assertTrue(lock.renew());
        clock.advance(Duration.ofSeconds(8));

        assertTrue("16 s after taking a 10 s lock, renewed at 8 s", lock.isHeld());
        assertEquals(0, table.sweep());
        assertEquals(List.of(new LockInfo("k", "o", T0, T0.plusSeconds(18))), table.locks());

        clock.advance(Duration.ofSeconds(2));
        assertFalse("expired: lost, even before the sweep", lock.renew());
        assertFalse(lock.isHeld());
        assertEquals(1, table.sweep());
        assertEmpty();
    }

    @Test
    public void releaseAllReleasesOnlyThatOwnersLocks() {
        IoLock a1 = acquire("mirror/n1/a", "node n1", TTL);
        IoLock a2 = acquire("mirror/n1/b", "node n1", TTL);
        IoLock b1 = acquire("mirror/n2/a", "node n2", TTL);
        a2.close();

        assertEquals("what close() released is not counted again", 1, table.releaseAll("node n1"));
        assertEquals(0, table.releaseAll("node n1"));
        assertEquals(0, table.releaseAll("nobody"));

        assertFalse(a1.isHeld());
        assertTrue(b1.isHeld());
        assertEquals(1, table.ownerCount());
        assertEquals(stats(1, Duration.ZERO, 3, 2, 0, 0), table.stats());
        a1.close();
        assertEquals("closing after releaseAll does nothing", 2, table.stats().released());
        acquire("mirror/n1/a", "node n1b", TTL);
    }

    @Test
    public void sweepRemovesOnlyExpiredLocks() {
        acquire("short", "o1", Duration.ofSeconds(5));
        IoLock longLived = acquire("long", "o2", Duration.ofMinutes(1));
        clock.advance(Duration.ofSeconds(10));

        assertEquals(1, table.sweep());
        assertEquals(0, table.sweep());

        assertTrue(longLived.isHeld());
        assertEquals(List.of(new LockInfo("long", "o2", T0, T0.plusSeconds(60))), table.locks());
        assertEquals(stats(1, Duration.ofSeconds(10), 2, 0, 1, 0), table.stats());
        assertEquals(1, table.keyCount());
        assertEquals(1, table.ownerCount());
    }

    @Test
    public void aMassExpiryIsSweptWhole() {
        for (int i = 0; i < LockTable.SWEEP_WARNINGS * 3; i++) {
            acquire("k" + i, "o" + (i % 4), Duration.ofSeconds(1));
        }
        clock.advance(Duration.ofSeconds(1));

        assertEquals(LockTable.SWEEP_WARNINGS * 3, table.sweep());
        assertEmpty();
    }

    @Test
    public void statsCountOnlyUnexpiredLocksAndTheOldestAge() {
        acquire("a", "o", Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(20));
        acquire("b", "o", TTL);
        clock.advance(Duration.ofSeconds(4));

        assertEquals(stats(2, Duration.ofSeconds(24), 2, 0, 0, 0), table.stats());
        assertEquals(List.of("a", "b"), table.locks().stream().map(LockInfo::key).toList());

        clock.advance(Duration.ofSeconds(6));
        assertEquals("a is expired, though not swept yet", stats(1, Duration.ofSeconds(10), 2, 0, 0, 0), table.stats());
        assertEquals(List.of("b"), table.locks().stream().map(LockInfo::key).toList());
    }

    @Test
    public void ttlExtremesAreHonoured() {
        IoLock tiny = acquire("tiny", "o", Duration.ofNanos(1));
        IoLock forever = acquire("forever", "o", Duration.ofSeconds(Long.MAX_VALUE));

        assertTrue("rounded up to a millisecond, not expired on arrival", tiny.isHeld());
        clock.advance(Duration.ofMillis(1));
        assertFalse(tiny.isHeld());
        clock.advance(Duration.ofDays(365 * 100));
        assertTrue(forever.isHeld());
        assertTrue(forever.renew());
    }

    @Test
    public void invalidArgumentsAreRefusedWithAClearMessage() {
        assertEquals("lock key must not be null or blank, got null",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire(null, "o", TTL)).getMessage());
        assertEquals("lock key must not be null or blank, got ' '",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire(" ", "o", TTL)).getMessage());
        assertEquals("lock owner must not be null or blank, got null",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire("k", null, TTL)).getMessage());
        assertEquals("lock owner must not be null or blank, got ''",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire("k", "", TTL)).getMessage());
        assertEquals("lock ttl must be positive, got PT0S (key k)",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire("k", "o", Duration.ZERO)).getMessage());
        assertEquals("lock ttl must be positive, got PT-1S (key k)",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire("k", "o", Duration.ofSeconds(-1)))
                        .getMessage());
        assertEquals("lock ttl must be positive, got null (key k)",
                assertThrows(IllegalArgumentException.class, () -> table.tryAcquire("k", "o", null)).getMessage());
        assertEquals("lock owner must not be null or blank, got '\t'",
                assertThrows(IllegalArgumentException.class, () -> table.releaseAll("\t")).getMessage());
        assertEquals(stats(0, Duration.ZERO, 0, 0, 0, 0), table.stats());
        assertEmpty();
    }

    @Test
    public void closingTheTableDropsEveryLockAndRefusesNewOnes() {
        IoLock lock = acquire("a", "o1", TTL);
        acquire("b", "o2", Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(2));

        assertEquals("only the unexpired one was live", 1, table.close());

        assertFalse(lock.isHeld());
        lock.close();
        assertEmpty();
        assertEquals("the lock registry is stopped; cannot lock c",
                assertThrows(IllegalStateException.class, () -> table.tryAcquire("c", "o", TTL)).getMessage());
    }

    @Test
    public void agesReadWellInLogLines() {
        assertEquals("850 ms", LockTable.describe(Duration.ofMillis(850)));
        assertEquals("45 s", LockTable.describe(Duration.ofMillis(45_900)));
        assertEquals("5 min", LockTable.describe(Duration.ofMinutes(5)));
        assertEquals("5 min 30 s", LockTable.describe(Duration.ofSeconds(330)));
        assertEquals("2 h 5 min", LockTable.describe(Duration.ofMinutes(125)));
        assertEquals("3 h", LockTable.describe(Duration.ofHours(3)));
    }

    @Test
    public void aLockDescribesItselfForLogs() {
        assertEquals("IoLock[k of o, acquired " + T0 + "]", acquire("k", "o", TTL).toString());
    }
}
