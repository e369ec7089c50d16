package dev.meshhub.bench.probe.impl;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.HdrHistogram.Histogram;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;

/**
 * Benchmark 6 in-process: what a million abandoned syncs do to the hub's {@link LockRegistry},
 * without the network. Each simulated sync takes the lock on one of {@code keys} keys (the files
 * of a node, synced over and over) with an owner of its own, as an upload does when it starts, and
 * then gives it up the two ways an ending upload or session does: every other one by
 * {@link IoLock#close()}, the rest by {@link LockRegistry#releaseAll(String)} of its owner. Every
 * {@code leakEvery}-th sync also takes a lock on a key of its own and never gives it up (a holder
 * that died), which only the registry's expiry sweep can remove.
 *
 * <p>One thread; the latency of each take-and-give-up goes into an HdrHistogram.
 */
final class LockChurn {

    private final LockRegistry registry;
    private final int count;
    private final int keys;
    private final Duration ttl;
    private final int leakEvery;
    private final Duration leakTtl;

    LockChurn(LockRegistry registry, int count, int keys, Duration ttl, int leakEvery, Duration leakTtl) {
        this.registry = registry;
        this.count = count;
        this.keys = keys;
        this.ttl = ttl;
        this.leakEvery = leakEvery;
        this.leakTtl = leakTtl;
    }

    ResultFile run() throws InterruptedException {
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        LockStats before = registry.stats();
        long refused = 0;
        long released = 0;
        long leaked = 0;
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if ((i & 4095) == 0 && Thread.interrupted()) {
                throw new InterruptedException();
            }
            String owner = "upload bench-" + i + " of node bench-churn";
            long t0 = System.nanoTime();
            Optional<IoLock> lock = registry.tryAcquire("mirror/bench-churn/churn/p" + (i % keys) + ".log", owner, ttl);
            if (lock.isEmpty()) {
                refused++;
            } else {
                if ((i & 1) == 0) {
                    lock.get().close();
                    released++;
                } else {
                    released += registry.releaseAll(owner);
                }
            }
            latency.recordValue(Math.min(System.nanoTime() - t0, latency.getHighestTrackableValue()));
            if (leakEvery > 0 && i % leakEvery == leakEvery - 1) {
                if (registry.tryAcquire("mirror/bench-churn/leaked/p" + i + ".log", owner + " (leaked)", leakTtl).isPresent()) {
                    leaked++;
                } else {
                    refused++;
                }
            }
        }
        long elapsed = System.nanoTime() - started;
        LockStats after = registry.stats();
        return new ResultFile().put("status", "ok")
                .put("churn.count", count)
                .put("churn.keys", keys)
                .put("churn.elapsedNs", elapsed)
                .put("churn.released", released)
                .put("churn.refused", refused)
                .put("churn.leaked", leaked)
                .put("churn.leakTtlMs", leakTtl.toMillis())
                .put("churn.ttlMs", ttl.toMillis())
                .put("before.live", before.live()).put("before.acquired", before.acquired())
                .put("before.released", before.released()).put("before.expired", before.expired())
                .put("after.live", after.live()).put("after.acquired", after.acquired())
                .put("after.released", after.released()).put("after.expired", after.expired())
                .put("after.refused", after.refused())
                .putLatency("latency.", latency);
    }
}
