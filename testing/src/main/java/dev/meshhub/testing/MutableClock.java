package dev.meshhub.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock the test moves by hand; optionally it also steps forward on every read. */
public final class MutableClock extends Clock {

    private Instant now;
    private Duration stepPerRead = Duration.ZERO;

    /** Starts at 2026-01-01T00:00:00Z. */
    public MutableClock() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    public MutableClock(Instant start) {
        this.now = start;
    }

    @Override
    public synchronized Instant instant() {
        Instant read = now;
        now = now.plus(stepPerRead);
        return read;
    }

    /** The current time, without counting as a read. */
    public synchronized Instant peek() {
        return now;
    }

    public synchronized void advance(Duration duration) {
        now = now.plus(duration);
    }

    /** From now on every read returns the time and then moves it forward by {@code step}. */
    public synchronized void stepEachRead(Duration step) {
        stepPerRead = step;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
