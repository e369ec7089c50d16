package dev.meshhub.monitor.jsonl;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;

/** A lock registry with fixed stats; nothing else is used by the monitor. */
final class StubLockRegistry implements LockRegistry {

    private final LockStats stats;

    StubLockRegistry(LockStats stats) {
        this.stats = stats;
    }

    @Override
    public LockStats stats() {
        return stats;
    }

    @Override
    public Optional<IoLock> tryAcquire(String key, String owner, Duration ttl) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public int releaseAll(String owner) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public List<LockInfo> locks() {
        throw new UnsupportedOperationException("not used by the monitor");
    }
}
