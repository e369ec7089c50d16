package dev.meshhub.journal.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock the test moves by hand; optionally it also steps forward on every read. */
final class MutableClock extends Clock {

    private Instant now;
    private Duration stepPerRead = Duration.ZERO;

    MutableClock(Instant start) {
        this.now = start;
    }

    @Override
    public synchronized Instant instant() {
        Instant read = now;
        now = now.plus(stepPerRead);
        return read;
    }

    /** The current time, without counting as a read. */
    synchronized Instant peek() {
        return now;
    }

    synchronized void advance(Duration duration) {
        now = now.plus(duration);
    }

    /** From now on every read returns the time and then moves it forward by {@code step}. */
    synchronized void stepEachRead(Duration step) {
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
