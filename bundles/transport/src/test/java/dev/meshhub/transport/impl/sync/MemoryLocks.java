package dev.meshhub.transport.impl.sync;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;

/** A lock registry in memory: one holder per key, released by close. */
final class MemoryLocks implements LockRegistry {

    final Map<String, String> held = new ConcurrentHashMap<>();

    @Override
    public Optional<IoLock> tryAcquire(String key, String owner, Duration ttl) {
        if (held.putIfAbsent(key, owner) != null) {
            return Optional.empty();
        }
        Instant acquired = Instant.now();
        return Optional.of(new IoLock() {
            @Override
            public String key() {
                return key;
            }

            @Override
            public String owner() {
                return owner;
            }

            @Override
            public Instant acquiredAt() {
                return acquired;
            }

            @Override
            public boolean renew() {
                return isHeld();
            }

            @Override
            public boolean isHeld() {
                return owner.equals(held.get(key));
            }

            @Override
            public void close() {
                held.remove(key, owner);
            }
        });
    }

    @Override
    public int releaseAll(String owner) {
        int before = held.size();
        held.values().removeIf(owner::equals);
        return before - held.size();
    }

    @Override
    public List<LockInfo> locks() {
        return List.of();
    }

    @Override
    public LockStats stats() {
        return new LockStats(held.size(), null, 0, 0, 0, 0);
    }
}
