package dev.meshhub.policy.impl;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Policy revisions: increasing, and never below the clock (microseconds since the epoch), so that a
 * restarted or replaced policy goes on above the revisions its predecessor handed out (unless that
 * one handed out more than one per microsecond) instead of starting again at 1, where a node would
 * take its policies for stale ones.
 */
final class Revisions {

    private final LongSupplier clock;
    private final AtomicLong last;

    /** Revisions from the system clock. */
    Revisions() {
        this(Revisions::microsNow);
    }

    Revisions(LongSupplier clock) {
        this.clock = clock;
        this.last = new AtomicLong(clock.getAsLong());
    }

    /** A revision above every earlier one of this instance, and at least the clock's time. */
    long next() {
        long now = clock.getAsLong();
        return last.updateAndGet(previous -> Math.max(previous + 1, now));
    }

    private static long microsNow() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
