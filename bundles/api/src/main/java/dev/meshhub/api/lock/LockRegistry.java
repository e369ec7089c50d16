package dev.meshhub.api.lock;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * IO locks: at most one holder per key (for example one file in one node's mirror). Every lock has
 * an owner (the sync that took it) and an expiry. Holders release deterministically: close the
 * {@link IoLock} in a {@code finally} or cancel path, or {@link #releaseAll(String)} when an owner's
 * stream or session ends. Expired locks are removed by a sweep, a backstop only. Nothing here ever
 * blocks: a lock held by someone else is refused at once.
 */
@ProviderType
public interface LockRegistry {

    /**
     * Takes the lock on {@code key} for {@code owner}, or answers empty at once if another holder has
     * it (an expired lock is taken over).
     *
     * @param key   what is locked, e.g. {@code mirror/n-1f3a/logs/app.log}
     * @param owner who holds it, e.g. {@code sync s-7c1e of node n-1f3a}; released together by
     *              {@link #releaseAll(String)}
     * @param ttl   how long the lock lives without {@link IoLock#renew()}; positive
     */
    Optional<IoLock> tryAcquire(String key, String owner, Duration ttl);

    /**
     * Releases every lock held by {@code owner}.
     *
     * @return how many were released
     */
    int releaseAll(String owner);

    /** Live locks, oldest first. */
    List<LockInfo> locks();

    /** Counters and the live count, from memory. */
    LockStats stats();
}
