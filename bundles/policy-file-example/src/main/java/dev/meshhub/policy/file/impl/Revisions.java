package dev.meshhub.policy.file.impl;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Policy revisions: increasing, and never below the clock (microseconds since the epoch), so that
 * this policy, deployed after another, goes on above the revisions the other handed out.
 */
final class Revisions {

    private final AtomicLong last = new AtomicLong(microsNow());

    long next() {
        long now = microsNow();
        return last.updateAndGet(previous -> Math.max(previous + 1, now));
    }

    private static long microsNow() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
