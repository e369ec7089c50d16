package dev.meshhub.admin.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.Test;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.proto.v1.MeshStatusInfo;

/** The lock part of a mesh snapshot on the wire (the rest is covered through the admin API). */
public class ManagementMessagesTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static MeshStatusInfo wire(LockStats locks) {
        return ManagementMessages.toWire(new MeshSnapshot(T0, null, null, null, locks, List.of()));
    }

    @Test
    public void lockStatsFillTheLockFields() {
        MeshStatusInfo info = wire(new LockStats(3, Duration.ofSeconds(65), 1_000, 990, 7, 42));

        assertTrue(info.getLocksKnown());
        assertEquals(3, info.getLiveLocks());
        assertEquals(65_000, info.getOldestLockAgeMs());
        assertEquals(7, info.getExpiredLocks());
    }

    @Test
    public void noLiveLocksIsKnownAndZero() {
        MeshStatusInfo info = wire(new LockStats(0, Duration.ZERO, 5, 5, 0, 0));

        assertTrue("known, though every field is zero", info.getLocksKnown());
        assertEquals(0, info.getLiveLocks());
        assertEquals(0, info.getOldestLockAgeMs());
        assertEquals(0, info.getExpiredLocks());
    }

    @Test
    public void withoutALockRegistryTheLocksAreUnknownAndZero() {
        MeshStatusInfo info = wire(null);

        assertFalse(info.getLocksKnown());
        assertEquals(0, info.getLiveLocks());
        assertEquals(0, info.getOldestLockAgeMs());
        assertEquals(0, info.getExpiredLocks());
    }

    @Test
    public void aNegativeOrMissingAgeIsSentAsZero() {
        assertEquals(0, wire(new LockStats(1, Duration.ofMillis(-5), 1, 0, 0, 0)).getOldestLockAgeMs());
        assertEquals(0, wire(new LockStats(1, null, 1, 0, 0, 0)).getOldestLockAgeMs());
    }
}
