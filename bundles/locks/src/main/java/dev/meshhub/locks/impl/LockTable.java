package dev.meshhub.locks.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.lock.LockStats;

/**
 * The locks themselves, in memory: one map from key to its holder, and an index from owner to its
 * holders so that {@link #releaseAll(String)} costs the owner's locks, not a scan of the table.
 *
 * <p>Memory stays bounded by the locks live at once: a released, expired or taken-over holder is
 * removed from both maps (an owner's index entry goes with its last lock), and nothing is kept about
 * it but the counters.
 *
 * <p>Thread safety: every change to a key's holder (take, take over, renew, release, sweep) happens
 * atomically on that key's {@link ConcurrentHashMap} entry, so a check and its change can never be
 * split by another thread. The owner index is updated while holding a key's entry, never the other
 * way round, so the two maps cannot deadlock. Nothing blocks for longer than a map update.
 */
final class LockTable {

    /** Expired locks a sweep names one by one at WARN; the rest go to DEBUG, with one WARN summing up. */
    static final int SWEEP_WARNINGS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(LockTable.class);

    private final Clock clock;
    private final ConcurrentHashMap<String, Holder> byKey = new ConcurrentHashMap<>();
    /** Each set is only read or changed inside a compute on its owner, or after its removal. */
    private final ConcurrentHashMap<String, Set<Holder>> byOwner = new ConcurrentHashMap<>();
    private final LongAdder acquired = new LongAdder();
    private final LongAdder released = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private volatile boolean closed;

    LockTable(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Takes {@code key} for {@code owner}, or answers empty at once if another unexpired holder has it.
     * Not re-entrant: the same owner asking again for a key it holds is refused too. An expired holder
     * is displaced (counted as expired, and logged, since its owner never released it).
     *
     * @throws IllegalArgumentException if key or owner is null or blank, or ttl is null, zero or negative
     * @throws IllegalStateException    once the table has been {@link #close() closed}
     */
    Optional<IoLock> tryAcquire(String key, String owner, Duration ttl) {
        requireText(key, "key");
        requireText(owner, "owner");
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("lock ttl must be positive, got " + ttl + " (key " + key + ")");
        }
        if (closed) {
            throw new IllegalStateException("the lock registry is stopped; cannot lock " + key);
        }
        Instant now = clock.instant();
        long nowMillis = now.toEpochMilli();
        Holder fresh = new Holder(key, owner, now, ttlMillis(ttl), nowMillis);
        Holder[] displaced = new Holder[1];
        Holder winner = byKey.compute(key, (k, current) -> {
            if (current != null && !current.expiredAt(nowMillis)) {
                return current;
            }
            if (current != null) {
                displaced[0] = current;
                unindex(current);
            }
            // Indexed while the key's entry is held: a holder in byKey is always in byOwner too.
            index(fresh);
            return fresh;
        });
        if (winner != fresh) {
            refused.increment();
            LOG.debug("lock {} refused to {}: held by {}", key, owner, winner.owner);
            return Optional.empty();
        }
        acquired.increment();
        Holder old = displaced[0];
        if (old != null) {
            expired.increment();
            LOG.warn("lock {} of owner {} expired after {} without release; taken over by {}", key, old.owner,
                    describe(age(old, nowMillis)), owner);
        }
        return Optional.of(fresh);
    }

    /**
     * Releases every lock {@code owner} holds, in time proportional to how many that is.
     *
     * @return how many were released
     * @throws IllegalArgumentException if owner is null or blank
     */
    int releaseAll(String owner) {
        requireText(owner, "owner");
        Set<Holder> holders = byOwner.remove(owner);
        if (holders == null) {
            return 0;
        }
        int count = 0;
        for (Holder holder : holders) {
            // Fails for a holder its own close() or the sweep removed meanwhile: counted there.
            if (byKey.remove(holder.key, holder)) {
                count++;
            }
        }
        released.add(count);
        if (count > 0) {
            LOG.debug("released {} lock(s) of owner {}", count, owner);
        }
        return count;
    }

    /**
     * Removes every expired lock. Each one is a holder that neither closed its lock nor had its owner
     * released: the first {@value #SWEEP_WARNINGS} are named at WARN, then one WARN gives the count,
     * so a mass expiry cannot flood the log.
     *
     * @return how many were removed
     */
    int sweep() {
        long nowMillis = clock.millis();
        int count = 0;
        for (Holder holder : byKey.values()) {
            if (!holder.expiredAt(nowMillis) || !removeIfExpired(holder, nowMillis)) {
                continue;
            }
            count++;
            expired.increment();
            if (count <= SWEEP_WARNINGS) {
                LOG.warn("lock {} of owner {} expired after {} without release; removed by the sweep", holder.key,
                        holder.owner, describe(age(holder, nowMillis)));
            } else {
                LOG.debug("lock {} of owner {} expired after {} without release; removed by the sweep", holder.key,
                        holder.owner, describe(age(holder, nowMillis)));
            }
        }
        if (count > SWEEP_WARNINGS) {
            LOG.warn("the sweep removed {} expired locks in all ({} more than named above); their holders never"
                    + " released them", count, count - SWEEP_WARNINGS);
        }
        return count;
    }

    /** Live (unexpired) locks, oldest first, then by key. */
    List<LockInfo> locks() {
        long nowMillis = clock.millis();
        List<LockInfo> live = new ArrayList<>();
        for (Holder holder : byKey.values()) {
            if (!holder.expiredAt(nowMillis)) {
                live.add(new LockInfo(holder.key, holder.owner, holder.acquiredAt,
                        Instant.ofEpochMilli(holder.expiresAtMillis)));
            }
        }
        live.sort(Comparator.comparing(LockInfo::acquiredAt).thenComparing(LockInfo::key));
        return live;
    }

    /**
     * The counters, and the live count and oldest age from one scan. A lock past its expiry that the
     * sweep has not removed yet is not live: nobody holds it any more.
     */
    LockStats stats() {
        long nowMillis = clock.millis();
        int live = 0;
        long oldest = Long.MAX_VALUE;
        for (Holder holder : byKey.values()) {
            if (!holder.expiredAt(nowMillis)) {
                live++;
                oldest = Math.min(oldest, holder.acquiredAtMillis);
            }
        }
        Duration oldestAge = live == 0 ? Duration.ZERO : Duration.ofMillis(Math.max(0, nowMillis - oldest));
        return new LockStats(live, oldestAge, acquired.sum(), released.sum(), expired.sum(), refused.sum());
    }

    /**
     * Drops every lock and refuses further ones; their holders' {@link IoLock#isHeld()} turns false.
     *
     * @return how many live (unexpired) locks were dropped
     */
    int close() {
        closed = true;
        long nowMillis = clock.millis();
        int live = 0;
        for (Holder holder : byKey.values()) {
            if (byKey.remove(holder.key, holder) && !holder.expiredAt(nowMillis)) {
                live++;
            }
        }
        byOwner.clear();
        return live;
    }

    /** Keys in the table, expired ones not yet swept included (for tests: memory stays bounded). */
    int keyCount() {
        return byKey.size();
    }

    /** Owners in the index (for tests: an owner's entry goes with its last lock). */
    int ownerCount() {
        return byOwner.size();
    }

    /** Holders in the owner index, summed (for tests, once the threads are done). */
    int indexedCount() {
        int count = 0;
        for (Set<Holder> holders : byOwner.values()) {
            count += holders.size();
        }
        return count;
    }

    /** Called inside the key's compute, so the check and the removal are one step against renew(). */
    private boolean removeIfExpired(Holder holder, long nowMillis) {
        boolean[] removed = new boolean[1];
        byKey.computeIfPresent(holder.key, (k, current) -> {
            if (current == holder && current.expiredAt(nowMillis)) {
                removed[0] = true;
                unindex(current);
                return null;
            }
            return current;
        });
        return removed[0];
    }

    private void index(Holder holder) {
        byOwner.compute(holder.owner, (o, holders) -> {
            Set<Holder> set = holders == null ? new HashSet<>() : holders;
            set.add(holder);
            return set;
        });
    }

    private void unindex(Holder holder) {
        // Absent when releaseAll() took the owner's whole set; then there is nothing left to undo.
        byOwner.computeIfPresent(holder.owner, (o, holders) -> {
            holders.remove(holder);
            return holders.isEmpty() ? null : holders;
        });
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("lock " + what + " must not be null or blank, got "
                    + (value == null ? "null" : "'" + value + "'"));
        }
    }

    /** Whole milliseconds, at least one (a sub-millisecond ttl would be expired on arrival). */
    private static long ttlMillis(Duration ttl) {
        try {
            long millis = ttl.toMillis();
            return ttl.equals(Duration.ofMillis(millis)) ? Math.max(1, millis) : millis + 1;
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static long plusSaturated(long a, long b) {
        long sum = a + b;
        // Overflow only when both are positive and the sum is not: then "never" is near enough.
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    private static Duration age(Holder holder, long nowMillis) {
        return Duration.ofMillis(Math.max(0, nowMillis - holder.acquiredAtMillis));
    }

    /** "850 ms", "45 s", "5 min", "5 min 30 s", "2 h 5 min": enough to judge a lock's age in a log line. */
    static String describe(Duration age) {
        long millis = age.toMillis();
        if (millis < 1_000) {
            return millis + " ms";
        }
        long seconds = millis / 1_000;
        if (seconds < 60) {
            return seconds + " s";
        }
        if (seconds < 3_600) {
            return seconds / 60 + " min" + (seconds % 60 == 0 ? "" : " " + seconds % 60 + " s");
        }
        return seconds / 3_600 + " h" + (seconds % 3_600 / 60 == 0 ? "" : " " + seconds % 3_600 / 60 + " min");
    }

    /**
     * One holder of one key. Identity is what counts: a stale holder's calls never touch a later
     * holder of the same key, because every change checks that the map still maps the key to this
     * very object. Equality is therefore left as identity.
     */
    private final class Holder implements IoLock {
        final String key;
        final String owner;
        final Instant acquiredAt;
        final long acquiredAtMillis;
        final long ttlMillis;
        /** Changed only inside the key's compute (renew); read anywhere. */
        volatile long expiresAtMillis;

        Holder(String key, String owner, Instant acquiredAt, long ttlMillis, long nowMillis) {
            this.key = key;
            this.owner = owner;
            this.acquiredAt = acquiredAt;
            this.acquiredAtMillis = nowMillis;
            this.ttlMillis = ttlMillis;
            this.expiresAtMillis = plusSaturated(nowMillis, ttlMillis);
        }

        boolean expiredAt(long nowMillis) {
            return nowMillis >= expiresAtMillis;
        }

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
            return acquiredAt;
        }

        @Override
        public boolean renew() {
            long nowMillis = clock.millis();
            boolean[] renewed = new boolean[1];
            byKey.computeIfPresent(key, (k, current) -> {
                // Expired means lost, even before the sweep removes it: anyone may take it over at
                // any moment, and a renew that sometimes won that race would make expiry unpredictable.
                if (current == this && !expiredAt(nowMillis)) {
                    expiresAtMillis = plusSaturated(nowMillis, ttlMillis);
                    renewed[0] = true;
                }
                return current;
            });
            return renewed[0];
        }

        @Override
        public boolean isHeld() {
            return byKey.get(key) == this && !expiredAt(clock.millis());
        }

        @Override
        public void close() {
            // remove(key, this) is atomic: a later holder of the key is never released by us.
            if (byKey.remove(key, this)) {
                unindex(this);
                released.increment();
                LOG.debug("lock {} of owner {} released", key, owner);
            }
        }

        @Override
        public String toString() {
            return "IoLock[" + key + " of " + owner + ", acquired " + acquiredAt + "]";
        }
    }
}
