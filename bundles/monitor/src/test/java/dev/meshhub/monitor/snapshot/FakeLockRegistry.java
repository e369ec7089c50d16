package dev.meshhub.monitor.snapshot;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;

/** A lock registry that only answers stats(), with whatever the test supplies (or throws). */
public final class FakeLockRegistry implements LockRegistry {

    private final Supplier<LockStats> stats;

    public FakeLockRegistry(Supplier<LockStats> stats) {
        this.stats = stats;
    }

    public static FakeLockRegistry answering(LockStats stats) {
        return new FakeLockRegistry(() -> stats);
    }

    @Override
    public LockStats stats() {
        return stats.get();
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
